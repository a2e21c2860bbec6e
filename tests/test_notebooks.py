"""The lesson notebooks: generated from their sources, stripped, and shaped like a lesson.

Running them is nbval's job (`make test` runs `pytest --nbval-lax notebooks/` in smoke mode);
these tests check what nbval cannot: the committed files themselves.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = [
    "00_welcome",
    "01_video_as_patches",
    "02_self_attention",
    "03_space_time_attention",
    "04_attention_steps",
    "05_the_timesformer",
    "06_video_data",
    "07_training",
    "08_five_schemes",
    "09_real_data",
    "10_attention_maps",
    "11_cost_curves",
    "12_time_matters",
    "13_long_clips",
    "14_vs_3d_cnn",
    "15_pretraining_and_resolution",
]


def _load_build():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
SOURCES = build.sources()
IDS = [s.stem for s in SOURCES]


def _notebook(source: Path) -> dict:
    return json.loads(build.target(source).read_text())


def _text(nb: dict, kind: str) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == kind)


def test_the_lessons_exist_in_order():
    assert IDS == LESSONS, f"expected sources {LESSONS}, found {IDS}"


def test_every_notebook_has_a_source():
    generated = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert generated == IDS, "each notebooks/*.ipynb must come from notebooks/src/<same>.py"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_notebook_is_in_sync_with_its_source(source):
    assert build.target(source).read_text() == build.render(source), (
        f"{source.stem}.ipynb is stale: run `python notebooks/build.py`"
    )


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_committed_without_outputs_and_with_kernel_python3(source):
    nb = _notebook(source)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["id"]


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_lesson_anatomy(source):
    nb = _notebook(source)
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown"
    assert first.startswith(f"# {source.stem[:2]} · "), "title must start with the lesson number"
    assert "**Objectives**" in first and "**Time budget**" in first
    markdown, code = _text(nb, "markdown"), _text(nb, "code")
    assert "## Questions" in markdown
    assert re.search(r"\*\*Exercises?\*\*", markdown), "point to the matching exercise"
    assert 'os.environ.get("MINI_TIMESFORMER_SMOKE") == "1"' in code, "needs the SMOKE switch"
    assert "plt.show()" in code, "at least one figure"
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "".join(first_code["source"]).startswith("%matplotlib inline"), (
        "figures returned as matplotlib Figure objects render only with the inline backend on"
    )
    assert "assert" in code, "checks live in assert cells"


def test_the_build_is_deterministic():
    # jupytext would give fresh random cell ids; build.py must not (diffs stay reviewable)
    assert build.render(SOURCES[0]) == build.render(SOURCES[0])


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_exercise_pointers_name_existing_exercises(source):
    markdown = _text(_notebook(source), "markdown")
    named = re.findall(r"exercises/(\d\d_\w+)\.ipynb", markdown)
    assert named, "name the matching exercise notebook(s)"
    missing = [n for n in named if not (ROOT / "exercises" / "source" / f"{n}.py").is_file()]
    assert not missing, f"no exercise source for {missing} in exercises/source/"


# --- the research questions (paper citations: tests/test_citations.py) ---

CITING = {s.stem: s.read_text() for s in SOURCES}


def test_research_questions_are_defined_once_and_cited_by_every_lesson():
    defined = re.findall(r"\*\*(RQ\d) ·", CITING["00_welcome"])
    assert defined == ["RQ1", "RQ2", "RQ3", "RQ4", "RQ5"]
    for stem, text in CITING.items():
        if stem in LESSONS[1:]:
            line = re.search(r"Research questions \(lesson 00\): (.*)", text)
            assert line, f"{stem} must name the research questions it serves"
            assert set(re.findall(r"RQ\d", text)) <= set(defined), stem
