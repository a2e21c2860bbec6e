"""The capstone helper (your model from your lesson notebooks) and the lessons' measured thresholds."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
import torch

import mini_timesformer as mt
from mini_timesformer import demo
from mini_timesformer.checks import capstone
from mini_timesformer.checks.measured import budget_name, expect

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def test_definitions_by_name_skipping_magics_and_broken_cells(tmp_path):
    path = _notebook(
        tmp_path / "01_x.ipynb",
        "%matplotlib inline\nimport torch\n\ndef f(x):\n    return x + 1\n",
        "def g(:\n    broken",  # a cell being written: skipped
        "class C:\n    pass\n\n\ndef f(x):\n    return x + 2  # redefined\n",
    )
    found = capstone.definitions(path, ("f", "C"))
    assert list(found) == ["f", "C"]
    assert found["f"] == "def f(x):\n    return x + 2  # redefined"  # the later cell wins
    with pytest.raises(LookupError, match=r"01_x.ipynb: no top-level definition of g, h"):
        capstone.definitions(path, ("f", "g", "h"))
    with pytest.raises(FileNotFoundError, match="no lesson notebook"):
        capstone.definitions(tmp_path / "missing.ipynb", ("f",))


def test_the_lessons_assemble_a_model_equal_to_the_package(tmp_path, capsys):
    my = capstone.load_model(NOTEBOOKS, tmp_path / "my_timesformer.py")
    assert "writing it from lessons 01–05" in capsys.readouterr().out  # it was missing
    cfg = mt.TimeSformerConfig.preset("nano", attention="divided", depth=2, num_classes=5)
    torch.manual_seed(0)
    package = mt.TimeSformer(cfg).eval()
    with torch.no_grad():
        for p in package.parameters():  # no zero-initialised tensor left to hide a mistake
            p.normal_(std=0.2)
    mine = my.load_package_weights(my.MyTimeSformer(cfg), package).eval()
    video = torch.randn(2, cfg.num_frames, 3, cfg.image_size, cfg.image_size)
    with torch.no_grad():
        torch.testing.assert_close(mine(video), package(video))
    assert not [m for m in mine.modules() if type(m).__module__.startswith("mini_timesformer")]
    text = (tmp_path / "my_timesformer.py").read_text()
    for lesson, names in (capstone.PARTS | capstone.MODEL).items():
        assert f"# ---- from {lesson}.ipynb: {', '.join(names)} ----" in text


def test_load_model_rewrites_a_stale_file_only(tmp_path, capsys):
    books = tmp_path / "notebooks"
    books.mkdir()
    for lesson in capstone.PARTS | capstone.MODEL:
        shutil.copy(NOTEBOOKS / f"{lesson}.ipynb", books)
    path = capstone.write_model(books, tmp_path / "my.py")
    old = path.stat().st_mtime
    os.utime(path, (old + 100, old + 100))  # newer than every lesson: imported as it is
    capstone.load_model(books, path)
    assert "note:" not in capsys.readouterr().out
    lesson = books / "05_the_timesformer.ipynb"  # the student edits lesson 05 afterwards
    text = lesson.read_text().replace("yours, in place of the package's", "edited")
    lesson.write_text(text)
    os.utime(lesson, (old + 200, old + 200))
    capstone.load_model(books, path)
    assert "older than your lesson notebooks" in capsys.readouterr().out
    assert "edited" in path.read_text()


def test_expect_asserts_only_where_measured(capsys):
    assert expect("top-1", 0.95, 0.9, measured=True, percent=True)
    assert "checked: top-1 = 95.0% (expected ≥ 90.0%" in capsys.readouterr().out
    with pytest.raises(AssertionError, match=r"top-1 = 50.0%, expected ≥ 90.0% \(measured on"):
        expect("top-1", 0.5, 0.9, measured=True, percent=True)
    assert not expect("top-1", 0.5, 0.9, 1.0, measured=False, percent=True)
    out = capsys.readouterr().out
    assert "90.0%–100.0%" in out and "not asserted (outside that range)" in out
    with pytest.raises(ValueError, match="give low, high or both"):
        expect("top-1", 0.5, measured=True)


def test_budget_names():
    assert budget_name(demo.BUDGETS["cpu"]) == "cpu"
    assert budget_name(demo.budget_for("cpu", smoke=True)) == "smoke"
    assert budget_name(replace(demo.BUDGETS["cpu"], motion_steps=7)) == "custom"
