"""Exercise notebooks: generated files in sync with their sources, solutions pass every
check (hidden ones too), student stubs fail only with NotImplementedError, no solution
text leaks, nbgrader metadata is complete, and the `check` command scores notebooks."""

from pathlib import Path

import nbformat
import pytest

from mini_timesformer import cli
from mini_timesformer.checks import grading as exercises

DIR = Path(__file__).resolve().parents[1] / "exercises"  # the course's folder
SOURCES = sorted((DIR / "source").glob("[0-9]*.py"))
NAMES = [s.stem for s in SOURCES]


def solution(name):
    return nbformat.read(DIR / "source" / f"{name}.ipynb", as_version=4)


def student(name):
    return nbformat.read(DIR / f"{name}.ipynb", as_version=4)


def test_there_are_at_least_eight_exercises():
    assert len(SOURCES) >= 8, [s.name for s in SOURCES]


def test_generated_notebooks_are_in_sync_with_sources():
    stale = exercises.generate(DIR, write=False)
    assert not stale, f"run `mini-timesformer make-exercises`: out of date {stale}"
    generated = {p.stem for p in DIR.glob("*.ipynb")} | {
        p.stem for p in (DIR / "source").glob("*.ipynb")
    }
    assert generated == set(NAMES), f"notebooks without a source: {generated - set(NAMES)}"


@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_every_check_including_hidden(name):
    nb = solution(name)
    hidden = sum(exercises.BEGIN_HIDDEN in c.source for c in nb.cells)
    results = exercises.run_notebook(nb, name)
    errors = [(r.index, repr(r.error)) for r in results if r.error is not None]
    assert not errors, errors
    earned, possible = exercises.score(results)
    assert possible > 0 and earned == possible
    assert hidden >= 1, "every exercise should have hidden tests"


@pytest.mark.parametrize("name", NAMES)
def test_student_version_fails_only_with_not_implemented(name):
    results = exercises.run_notebook(student(name), name)
    other = [
        (r.index, repr(r.error))
        for r in results
        if r.error is not None and not isinstance(r.error, NotImplementedError)
    ]
    assert not other, other
    tests = [r for r in results if r.points is not None]
    free = [r.grade_id for r in tests if r.error is None]
    assert tests and not free, f"test cells that pass without any student code: {free}"


def _solution_lines(source: str) -> set[str]:
    lines, inside = set(), False
    for line in source.splitlines():
        if line.strip() in (exercises.BEGIN_SOLUTION, exercises.BEGIN_HIDDEN):
            inside = True
        elif line.strip() in (exercises.END_SOLUTION, exercises.END_HIDDEN):
            inside = False
        elif inside and line.strip():
            lines.add(line.strip())
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_no_solution_or_hidden_test_leaks(name):
    sol, stu = solution(name), student(name)
    code = "\n".join(c.source for c in stu.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
        assert marker not in code
    # lines that exist only inside solution/hidden blocks must not appear anywhere
    secret = set().union(*(_solution_lines(c.source) for c in sol.cells))
    visible = {
        line.strip()
        for c in sol.cells
        for line in exercises.drop_hidden_tests(exercises.strip_solutions(c.source)).splitlines()
    }
    leaked = {line for line in secret - visible if line in {s.strip() for s in code.splitlines()}}
    assert not leaked, leaked


@pytest.mark.parametrize("name", NAMES)
def test_nbgrader_metadata_and_format(name):
    for nb in (solution(name), student(name)):
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        ids, points = set(), 0
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                assert exercises.BEGIN_SOLUTION not in cell.source
                continue
            assert meta["schema_version"] == 3 and meta["grade_id"] not in ids
            ids.add(meta["grade_id"])
            if meta["grade"]:
                assert meta["locked"] and not meta["solution"] and meta["points"] > 0
                points += meta["points"]
            else:
                assert meta["solution"] and "points" not in meta
        assert points > 0


def test_hidden_tests_are_restored_for_grading():
    """A student who solved the exercise and deleted a test cell: grading with the
    source's test cells brings the hidden tests (and the deleted cell) back."""
    name = "02_attention"
    sol, stu = solution(name), student(name)
    solved = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in sol.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    cells = []
    for cell in stu.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = solved[meta["grade_id"]]
        if not (meta.get("grade") and meta["grade_id"] == "multi_head_tests"):
            cells.append(cell)
    stu.cells = cells
    graded = exercises.with_hidden_tests(stu, sol)
    assert sum(exercises.BEGIN_HIDDEN in c.source for c in graded.cells) == 3
    earned, possible = exercises.score(exercises.run_notebook(graded, name))
    assert earned == possible == exercises.score(exercises.run_notebook(sol, name))[1]


def test_check_command_scores_notebooks(capsys):
    assert cli.main(["check", str(DIR / "02_attention.ipynb")]) == 1
    out = capsys.readouterr().out
    assert "TODO  masked_attention_tests" in out and "Score: 0 / 7" in out
    assert cli.main(["check", str(DIR / "02_attention.ipynb"), "--hidden"]) == 1
    assert cli.main(["check", str(DIR / "source" / "02_attention.ipynb")]) == 0
    assert "Score: 7 / 7" in capsys.readouterr().out
    assert cli.main(["check", str(DIR / "nope.ipynb")]) == 2
    assert "no notebook" in capsys.readouterr().err


def test_marker_errors_are_one_line_messages(tmp_path):
    with pytest.raises(ValueError, match="never closed"):
        exercises.strip_solutions("x = 1\n### BEGIN SOLUTION\ny = 2")
    with pytest.raises(ValueError, match="without"):
        exercises.drop_hidden_tests("### END HIDDEN TESTS")
    bad = tmp_path / "01_bad.py"
    bad.write_text("# %%\nx = 1\n### BEGIN HIDDEN TESTS\ny = 2\n### END HIDDEN TESTS\n")
    with pytest.raises(ValueError, match="hidden tests belong in a test cell"):
        exercises.read_source(bad)
    bad.write_text('# %% grade_id="t" points=1\n### BEGIN SOLUTION\n### END SOLUTION\n')
    with pytest.raises(ValueError, match="no solution block"):
        exercises.read_source(bad)


def test_stub_keeps_indentation_and_code_outside_markers():
    text = "def f(x):\n    y = x\n    ### BEGIN SOLUTION\n    return y\n    ### END SOLUTION\n"
    stub = exercises.strip_solutions(text)
    assert stub == "def f(x):\n    y = x\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


def test_sources_have_no_magics_and_paths_are_relative():
    for source in SOURCES:
        text = Path(source).read_text()
        assert "\n%" not in text and "\n!" not in text, source


def test_runner_skips_magics_and_leaves_random_state_alone():
    import torch

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "%matplotlib inline\nimport torch\ntorch.manual_seed(0)\nx = 1"
            ),
            nbformat.v4.new_code_cell("!ls\nassert x == 1"),
        ]
    )
    state = torch.random.get_rng_state()
    results = exercises.run_notebook(nb)
    assert [r.error for r in results] == [None, None]
    assert torch.equal(torch.random.get_rng_state(), state)


def test_hidden_tests_found_for_a_submission_elsewhere(tmp_path, capsys):
    submission = tmp_path / "02_attention.ipynb"
    submission.write_text((DIR / "02_attention.ipynb").read_text())
    assert cli.main(["check", str(submission), "--hidden"]) == 1
    assert "(with hidden tests)" in capsys.readouterr().out
