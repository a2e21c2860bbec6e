"""A non-editable install works on its own: ``pip install --no-deps --target DIR .`` (built
from a copy of this tree, offline: no build isolation), then, from a folder outside the
repository, the package imports from DIR, ``summary`` runs and ``check`` grades an exercise
notebook. This is what catches paths that reach outside the package and package data
(the Kinetics labels and class presets) left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(target dir, a working directory outside the repository)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    shutil.copytree(
        REPO / "mini_timesformer",
        source / "mini_timesformer",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    target = root / "site"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    work = root / "elsewhere"
    work.mkdir()
    return target, work


def _run(installed, *args, timeout=300):
    target, work = installed
    env = {**os.environ, "PYTHONPATH": str(target), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, *args], cwd=work, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_installed_package_imports_from_the_target(installed):
    target, _ = installed
    done = _run(
        installed,
        "-c",
        "import mini_timesformer as mt; print(mt.__file__); "
        "print(len(mt.pretrained.load_label_names('kinetics400'))); "
        "from mini_timesformer.data.prepare import class_preset; "
        "print(len(class_preset('kinetics400_motion10')))",
    )
    assert done.returncode == 0, done.stderr
    path, labels, preset = done.stdout.split()
    assert Path(path).resolve().is_relative_to(target.resolve())
    assert labels == "400"  # package data travelled with pretrained/
    assert preset == "10"  # and the class presets with data/


def test_installed_summary_command(installed):
    done = _run(installed, "-m", "mini_timesformer", "summary")
    assert done.returncode == 0, done.stderr
    assert "| divided | 121," in done.stdout  # Table 1: 121.4M parameters


def test_installed_check_command_grades_a_solution(installed):
    notebook = REPO / "exercises" / "source" / "01_patch_embedding.ipynb"
    done = _run(installed, "-m", "mini_timesformer", "check", str(notebook))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "01_patch_embedding.ipynb" in done.stdout
