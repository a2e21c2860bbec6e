"""Training: a plain loop for one CPU/GPU or many GPUs under ``torchrun``.

    run_dir = mt.train.train(preset="nano", attention="divided", data="synthetic-motion",
                             steps=400, batch_size=64, out="runs/divided")

* ``config.py``: ``TrainConfig`` (every choice of a run) and the ``--data`` spec;
* ``inputs.py``: the run's datasets and model (``--init`` scratch / ViT / checkpoint);
* ``loop.py``: ``train()`` and ``fit()``, the loop itself, read top to bottom;
* ``state.py``: ``Run``, everything a run holds, and its checkpoint save / resume;
* ``callbacks.py``: progress bar, attention snapshots, curves, report (the CLI wires them);
* ``optim.py``: AdamW/SGD and their schedules;
* ``checkpoint.py``: exact resume; ``distributed.py``: DDP helpers;
* ``evaluate.py``: multi-view evaluation (paper, Appendix A); ``init.py``: ``small_model_init``;
* ``cli.py``: ``mini-timesformer train`` and ``eval``.
"""

from .config import TrainConfig
from .init import small_model_init
from .loop import NonFiniteLossError, train

__all__ = ["TrainConfig", "NonFiniteLossError", "train", "small_model_init"]
