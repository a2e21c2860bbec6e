"""``mini-timesformer check NOTEBOOK`` and ``make-exercises`` (registered by
``mini_timesformer.cli``); the work is in ``grading.py``."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .grading import (
    EXERCISES_DIR,
    format_report,
    generate,
    load_notebook,
    run_notebook,
    score,
    with_hidden_tests,
)


def _needs_notebook_tools() -> None:
    import importlib.util

    for module in ("nbformat", "jupytext"):
        if importlib.util.find_spec(module) is None:
            raise UserError(
                f"this command needs {module}: pip install 'mini-timesformer[notebooks]'"
            )


def _check(args) -> int:
    _needs_notebook_tools()
    path = Path(args.notebook)
    nb = load_notebook(path)
    if args.hidden:
        source = Path(args.source) if args.source else path.parent / "source" / f"{path.stem}.py"
        if not args.source and not source.is_file():  # a submission outside exercises/
            source = Path(args.dir) / "source" / f"{path.stem}.py"
        nb = with_hidden_tests(nb, load_notebook(source))
    results = run_notebook(nb, path.name)
    print(
        format_report(
            results, path.name + (" (with hidden tests)" if args.hidden else ""), args.verbose
        )
    )
    earned, possible = score(results)
    return 0 if earned == possible else 1


def _make(args) -> int:
    _needs_notebook_tools()
    stale = generate(args.dir, write=not args.check)
    for path in stale:
        print(f"{'out of date' if args.check else 'written'}: {path}")
    if not stale:
        print("exercise notebooks are in sync with exercises/source/")
    return 1 if (args.check and stale) else 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("check", help="run an exercise notebook's checks and print a score")
    p.add_argument("notebook", help="e.g. exercises/03_divided_attention.ipynb")
    p.add_argument(
        "--hidden",
        action="store_true",
        help="instructors: also run the hidden tests from the exercise's source",
    )
    p.add_argument(
        "--source",
        help="source to take hidden tests from (default: "
        "source/<name>.py next to the notebook, else in the course's exercises/)",
    )
    p.add_argument(
        "--dir",
        default=str(EXERCISES_DIR),
        help="the course's exercises folder (default: exercises/ here)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show each test cell's output")
    p.set_defaults(func=_check)
    p = subparsers.add_parser(
        "make-exercises", help="generate solution and student notebooks from exercises/source"
    )
    p.add_argument(
        "--dir",
        default=str(EXERCISES_DIR),
        help="exercises folder (default: exercises/ in the working directory)",
    )
    p.add_argument("--check", action="store_true", help="only report out-of-date notebooks")
    p.set_defaults(func=_make)
