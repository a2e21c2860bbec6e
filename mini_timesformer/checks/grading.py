"""Exercise notebooks: generate them from their sources, run their checks, print a score.

One source per exercise, ``exercises/source/NN_name.py`` (jupytext "percent" format, so a
reviewer reads plain diffs), with nbgrader's markers:

* ``### BEGIN SOLUTION`` / ``### END SOLUTION``: the student gets
  ``# YOUR CODE HERE`` + ``raise NotImplementedError()`` instead;
* ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``: dropped from the student version;
* a cell header ``# %% grade_id="..." points=N`` marks an autograded test cell.

From it we write ``exercises/source/NN_name.ipynb`` (the solution = the nbgrader *source*
notebook: markers kept, nbgrader cell metadata with grade ids and points) and
``exercises/NN_name.ipynb`` (the student version). Both are kernel ``python3``, no outputs.
``mini-timesformer check NOTEBOOK`` runs a notebook's code cells in order, in-process,
and scores the test cells that pass (nbgrader's rule: a test cell passes if it raises nothing).
Folders are arguments (default ``exercises/`` in the working directory): nothing here
looks outside the installed package, so a non-editable install works the same.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MissingPathError, UserError
from ..runtime import cpu_threads

if TYPE_CHECKING:  # nbformat and jupytext (extras [dev]/[notebooks]) load only when used
    from nbformat import NotebookNode

EXERCISES_DIR = Path("exercises")  # the course's folder, relative to the working directory
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


# ------------------------------------------------------------------ generation
def _blocks(source: str, begin: str, end: str, where: str):
    """Yield (start, stop, indent) line spans of begin/end marker blocks, checked."""
    lines, start = source.split("\n"), None
    for i, line in enumerate(lines):
        if line.strip() == begin:
            if start is not None:
                raise UserError(f"{where}: nested {begin!r} at line {i + 1}")
            start = i
        elif line.strip() == end:
            if start is None:
                raise UserError(f"{where}: {end!r} without {begin!r} at line {i + 1}")
            yield start, i, lines[start][: len(lines[start]) - len(lines[start].lstrip())]
            start = None
    if start is not None:
        raise UserError(f"{where}: {begin!r} at line {start + 1} is never closed")


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace each solution block by a stub that raises NotImplementedError."""
    lines = source.split("\n")
    for start, stop, indent in reversed(list(_blocks(source, BEGIN_SOLUTION, END_SOLUTION, where))):
        lines[start : stop + 1] = [
            f"{indent}# YOUR CODE HERE",
            f"{indent}raise NotImplementedError()",
        ]
    return "\n".join(lines)


def drop_hidden_tests(source: str, where: str = "cell") -> str:
    """Remove hidden-test blocks (markers included)."""
    lines = source.split("\n")
    for start, stop, _ in reversed(list(_blocks(source, BEGIN_HIDDEN, END_HIDDEN, where))):
        del lines[start : stop + 1]
    return "\n".join(lines).rstrip("\n")


def _nbgrader(grade_id: str, solution: bool, points=None) -> dict:
    """nbgrader cell metadata (schema 3): a solution cell or an autograded test cell."""
    meta = {
        "grade": points is not None,
        "grade_id": grade_id,
        "locked": points is not None,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def _solution_id(source: str, index: int) -> str:
    match = re.search(r"^\s*(?:def|class)\s+(\w+)", source, flags=re.M)
    return match.group(1) if match else f"solution_{index}"


def read_source(path) -> NotebookNode:
    """A jupytext source -> the solution notebook (nbgrader source), validated."""
    import jupytext

    path = Path(path)
    if not path.is_file():
        raise MissingPathError(f"no exercise source {path}")
    nb = jupytext.read(path, fmt="py:percent")
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    seen = set()
    for i, cell in enumerate(nb.cells):
        where = f"{path.name} cell {i}"
        meta = dict(cell.metadata)
        grade_id, points = meta.pop("grade_id", None), meta.pop("points", None)
        has_solution = BEGIN_SOLUTION in cell.source
        list(_blocks(cell.source, BEGIN_SOLUTION, END_SOLUTION, where))  # validate
        list(_blocks(cell.source, BEGIN_HIDDEN, END_HIDDEN, where))
        if BEGIN_HIDDEN in cell.source and points is None:
            raise UserError(
                f'{where}: hidden tests belong in a test cell (header: grade_id="..." points=N)'
            )
        if points is not None and (grade_id is None or has_solution):
            raise UserError(f"{where}: a test cell needs a grade_id and no solution block")
        if has_solution:
            grade_id = grade_id or _solution_id(cell.source, i)
        if grade_id is not None:
            if grade_id in seen:
                raise UserError(f"{where}: duplicate grade_id {grade_id!r}")
            seen.add(grade_id)
            meta["nbgrader"] = _nbgrader(grade_id, has_solution, points)
        cell.metadata = meta
        cell.id = grade_id or f"cell-{i}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def student_version(solution: NotebookNode) -> NotebookNode:
    """The student notebook: solutions stubbed out, hidden tests dropped."""
    import nbformat

    nb = nbformat.from_dict(solution)  # a deep copy
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = drop_hidden_tests(strip_solutions(cell.source, f"cell {i}"))
    return nb


def notebook_text(nb: NotebookNode) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def targets(source: Path, exercises_dir: Path) -> dict[Path, str]:
    """The two generated files of one source and their expected contents."""
    solution = read_source(source)
    return {
        source.with_suffix(".ipynb"): notebook_text(solution),
        exercises_dir / f"{source.stem}.ipynb": notebook_text(student_version(solution)),
    }


def generate(exercises_dir=EXERCISES_DIR, write: bool = True) -> list[Path]:
    """(Re)write every generated notebook; return the files that were out of date."""
    exercises_dir = Path(exercises_dir)
    sources = sorted((exercises_dir / "source").glob("[0-9]*.py"))
    if not sources:
        raise MissingPathError(f"no exercise sources in {exercises_dir / 'source'}")
    stale = []
    for source in sources:
        for path, text in targets(source, exercises_dir).items():
            if not path.is_file() or path.read_text() != text:
                stale.append(path)
                if write:
                    path.write_text(text)
    return stale


# ------------------------------------------------------------------- running
@dataclass
class CellResult:
    """One executed code cell: its grade id/points if it is a test cell, and the error."""

    index: int
    grade_id: str | None
    points: float | None
    error: BaseException | None
    output: str
    seconds: float


def load_notebook(path) -> NotebookNode:
    path = Path(path)
    if not path.is_file():
        raise MissingPathError(f"no notebook {path}")
    if path.suffix == ".py":
        return read_source(path)
    if path.suffix != ".ipynb":
        raise UserError(f"expected an exercise notebook (.ipynb) or source (.py), got {path}")
    import nbformat

    return nbformat.read(path, as_version=4)


def with_hidden_tests(nb, source) -> NotebookNode:
    """Replace the test cells of ``nb`` with the source's (hidden tests included), by
    grade id, as nbgrader's autograder does; test cells the student deleted come back."""
    import nbformat

    nb, tests = nbformat.from_dict(nb), {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            tests[meta["grade_id"]] = cell
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in tests:
            nb.cells[i] = nbformat.from_dict(tests.pop(grade_id))
    nb.cells.extend(nbformat.from_dict(cell) for cell in tests.values())
    return nb


def run_notebook(nb, name: str = "notebook") -> list[CellResult]:
    """Execute the code cells in order in a fresh namespace (no kernel), like
    "Restart & Run All" that keeps going after errors. IPython magics and shell lines
    (``%…``, ``!…``) are skipped.

    Runs on one CPU thread: exercise sizes are tiny, and on a busy machine thread
    hand-offs cost far more than the maths."""
    import torch

    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        with cpu_threads(1), torch.random.fork_rng(devices=[]):  # caller's RNG untouched
            return _run_cells(nb, name)
    finally:
        _close_figures()


def _run_cells(nb, name: str) -> list[CellResult]:
    namespace = {"__name__": "__main__"}
    results = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source = re.sub(r"^(\s*)([%!].*)$", r"\1pass  # skipped: \2", cell.source, flags=re.M)
        meta = cell.metadata.get("nbgrader", {})
        buffer, error, start = io.StringIO(), None, time.perf_counter()
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            try:
                exec(compile(source, f"<{name} cell {i}>", "exec"), namespace)
            except Exception as err:  # noqa: BLE001 - a failing cell is a result
                error = err
        results.append(
            CellResult(
                i,
                meta.get("grade_id"),
                meta.get("points") if meta.get("grade") else None,
                error,
                buffer.getvalue(),
                time.perf_counter() - start,
            )
        )
    return results


def _close_figures() -> None:
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def score(results: list[CellResult]) -> tuple[float, float]:
    """(points earned, points possible) over the test cells."""
    tests = [r for r in results if r.points is not None]
    return (sum(r.points for r in tests if r.error is None), sum(r.points for r in tests))


def format_report(results: list[CellResult], name: str, verbose: bool = False) -> str:
    lines = [name]
    for r in results:
        if r.points is None and r.error is None:
            continue
        if r.error is None:
            status, note = "PASS", ""
        elif isinstance(r.error, NotImplementedError):
            status, note = "TODO", "not implemented yet"
        else:
            status = "FAIL"
            note = (
                f"{type(r.error).__name__}: {str(r.error).splitlines()[0] if str(r.error) else ''}"
            )
        label = r.grade_id or f"cell {r.index}"
        points = f"{r.points if r.error is None else 0:g}/{r.points:g}" if r.points else "-"
        lines.append(f"  {status}  {label:<28} {points:>7}  {note}".rstrip())
        if verbose and r.output.strip():
            lines.extend("        " + line for line in r.output.rstrip().splitlines())
    earned, possible = score(results)
    lines.append(f"Score: {earned:g} / {possible:g}")
    return "\n".join(lines)
