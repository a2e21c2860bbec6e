"""What the training loop reads and writes besides the model: the epoch sampler (the same
shuffle on every process, resumable mid-epoch) and the run's CSV logs (``steps.csv``,
``epochs.csv``)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import torch


class EpochSampler(torch.utils.data.Sampler):
    """Seeded shuffling that is the same on every process, sharded by rank.

    Epoch ``e`` uses the permutation of ``torch.Generator().manual_seed(seed + e)``, padded
    by wrapping so that every rank gets the same number of samples; rank ``r`` of ``w`` takes
    positions ``r, r + w, ...`` (a distributed sampler). ``skip`` drops the first samples of
    this rank's share, which is how a resumed run continues mid-epoch.
    """

    def __init__(
        self, size: int, seed: int = 0, shuffle: bool = True, rank: int = 0, world_size: int = 1
    ):
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def __len__(self) -> int:
        return math.ceil(self.size / self.world_size) - self.skip

    def __iter__(self):
        if self.shuffle:
            order = torch.randperm(
                self.size, generator=torch.Generator().manual_seed(self.seed + self.epoch)
            ).tolist()
        else:
            order = list(range(self.size))
        total = math.ceil(self.size / self.world_size) * self.world_size
        order = (order * math.ceil(total / self.size))[:total]  # pad by wrapping
        return iter(order[self.rank :: self.world_size][self.skip :])


class CsvLog:
    """Append rows to a CSV file, writing the header once."""

    def __init__(self, path: Path, fields: list[str], keep_until_step: int | None = None):
        self.path, self.fields = path, fields
        rows = []
        if keep_until_step is not None and path.exists():  # resume: drop rows after the ckpt
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until_step]
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fields)
            writer.writeheader()
            writer.writerows(rows)

    def write(self, row: dict) -> None:
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, self.fields).writerow(row)
