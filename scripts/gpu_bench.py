#!/usr/bin/env python
"""ViT-B divided 8×224 training step, ours vs Hugging Face eager, bf16 — section (c) of
``make gpu-check`` on its own. The code is ``mini_timesformer/perf/gpu_bench.py``.

    python scripts/gpu_bench.py                 # ours vs HF eager (a few minutes on one GPU)
    python scripts/gpu_bench.py --compile       # also torch.compile(ours)
    python scripts/gpu_bench.py --smoke         # CPU, nano model: checks the code path
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from mini_timesformer.perf.gpu_bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
