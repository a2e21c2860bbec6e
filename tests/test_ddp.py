"""DistributedDataParallel under torchrun on CPU (gloo), 2 processes, a tiny model.

Two processes with batch b each must train exactly like one process with batch 2b:
the sampler gives rank r the clips r, r+2, ... of the same permutation, DDP averages the
gradients, and evaluation sums its counts across processes.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
import torch

from mini_timesformer.cli import main
from mini_timesformer.train.checkpoint import load_checkpoint

ARGS = [
    "train",
    "--frames",
    "4",
    "--size",
    "16",
    "--steps",
    "2",
    "--train-size",
    "16",
    "--val-size",
    "6",
    "--optimizer",
    "sgd",
    "--lr",
    "0.1",
    "--no-progress",
    "--seed",
    "3",
]
# SGD: the update is linear in the gradient, so float rounding stays at rounding size
# (Adam divides tiny gradients by their own size and would amplify it)


def test_two_gloo_processes_match_one_process_with_the_global_batch(tmp_path):
    ddp_dir, one_dir = tmp_path / "ddp", tmp_path / "one"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "mini_timesformer",
        *ARGS,
        "--batch-size",
        "4",
        "--out",
        str(ddp_dir),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "× 2: 2 steps of 8 clips" in done.stdout  # rank 0 speaks, once
    assert done.stdout.count("run written to") == 1

    torch.set_num_threads(1)
    assert main([*ARGS, "--batch-size", "8", "--threads", "1", "--out", str(one_dir)]) == 0

    with open(ddp_dir / "steps.csv", newline="") as f:
        ddp_steps = list(csv.DictReader(f))
    with open(one_dir / "steps.csv", newline="") as f:
        one_steps = list(csv.DictReader(f))
    assert [r["step"] for r in ddp_steps] == ["1", "2"]  # only rank 0 writes
    for a, b in zip(ddp_steps, one_steps):  # all-reduced loss = the global batch's loss
        assert float(a["loss"]) == pytest.approx(float(b["loss"]), rel=1e-5)
        assert float(a["accuracy"]) == float(b["accuracy"])

    ddp = load_checkpoint(ddp_dir)["model"]
    one = load_checkpoint(one_dir)["model"]
    for key in one:
        torch.testing.assert_close(ddp[key], one[key], rtol=1e-4, atol=1e-5)

    ddp_val = json.loads((ddp_dir / "metrics.json").read_text())["val"]
    one_val = json.loads((one_dir / "metrics.json").read_text())["val"]
    assert ddp_val["num_videos"] == 6  # 3 per process, summed (not 3, not 12)
    assert ddp_val["confusion"] == one_val["confusion"]
    # attention snapshots (on by default for synthetic data) under DDP: no stray temp files
    assert sorted(p.name for p in (ddp_dir / "attention").iterdir()) == [
        "epoch_000.png",
        "epochs.gif",
    ]
