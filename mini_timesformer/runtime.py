"""Where and how a job runs: the one device picker, the one CPU-thread helper, the runs
folder and the one atomic file writer. Every command and lesson uses these.

* ``pick_device("auto")``: cuda (this process's GPU under torchrun) -> mps -> cpu.
* ``cpu_threads(n)``: run a block with ``n`` intra-op CPU threads, then restore;
  ``threads_for_load()`` says how many to use on a machine that may be busy.
* ``runs_dir("course-06")``: where runs write their files — never into tracked folders
  (our choice): ``$MINI_TIMESFORMER_HOME`` if set, else the repository's ``runs/``, also
  from a notebook, whose kernel Jupyter and nbval start inside ``notebooks/``.
* ``atomic_write(path, write)``: write to a temporary file, fsync, rename over ``path``,
  so a crash mid-write never leaves a half-written file (checkpoints, models, data).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path

import torch

from .errors import UserError

DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto``: cuda (GPU ``local_rank``, set as current) -> mps -> cpu; else the named
    device, with a one-line error if it does not exist here."""
    if name == "auto":
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
            return torch.device("cuda", local_rank)
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps and mps.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(
            f"unknown device {name!r}; expected one of: {', '.join(DEVICES)} (or e.g. cuda:1)"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested, but torch sees no CUDA GPU here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError(f"device {name!r} requested, but MPS is not available here")
    return device


@contextlib.contextmanager
def cpu_threads(threads: int | None):
    """Run with ``threads`` intra-op CPU threads (None: leave as is), then restore.

    On a CPU shared with other jobs, one thread is often several times faster than
    many: threads that wait for each other waste their time slices.
    """
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def single_thread(fn):
    """Decorator: run ``fn`` under ``cpu_threads(1)`` (deterministic, fast on busy CPUs)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with cpu_threads(1):
            return fn(*args, **kwargs)

    return wrapper


def threads_for_load() -> int:
    """All cores on an idle machine; one thread when the CPU is already busy (measured
    here: a nano training step is ~4× faster on 1 thread than on 2 under load)."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0] >= cores
    except OSError:
        busy = False
    return 1 if busy else cores


def runs_dir(*parts: str) -> Path:
    """``runs_dir("course-06")`` -> runs/course-06 (created by whoever writes there)."""
    home = os.environ.get("MINI_TIMESFORMER_HOME")
    if home:
        base = Path(home)
    else:
        base = Path("../runs") if Path.cwd().name == "notebooks" else Path("runs")
    return base.joinpath(*parts)


def last_checkpoint(run) -> Path:
    """The checkpoint a training run keeps: ``RUN/checkpoints/last.pt`` (the run layout)."""
    return Path(run) / "checkpoints" / "last.pt"


def atomic_write(path, write, suffix: str = ".tmp") -> Path:
    """Call ``write(tmp)`` on a temporary path next to ``path``, fsync it, rename it over
    ``path`` (``os.replace``: atomic on POSIX and Windows). On any error the temporary
    file is removed and the old ``path``, if any, is left intact. ``suffix``: the
    temporary name's ending, for writers that choose a format by it (e.g. ``".mp4"``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path, text: str) -> Path:
    """``atomic_write`` for a text file (UTF-8)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


__all__ = [
    "pick_device",
    "cpu_threads",
    "single_thread",
    "threads_for_load",
    "runs_dir",
    "atomic_write",
    "atomic_write_text",
]
