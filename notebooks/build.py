"""Generate the lesson notebooks from their jupytext sources (the single source of truth).

    python notebooks/build.py          # write notebooks/NN_name.ipynb from notebooks/src/NN_name.py
    python notebooks/build.py --check  # exit 1 if any .ipynb is missing or out of date

Sources are jupytext "percent" scripts (``# %%`` code cells, ``# %% [markdown]`` text cells),
so a reviewer reads a plain diff. Generated notebooks carry no outputs, the ``python3``
kernel and deterministic cell ids, so building twice gives the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def sources() -> list[Path]:
    """The lesson sources, in course order (``NN_name.py``)."""
    return sorted(SOURCES.glob("[0-9][0-9]_*.py"))


def target(source: Path) -> Path:
    return HERE / f"{source.stem}.ipynb"


def render(source: Path) -> str:
    """The notebook JSON text for one source: no outputs, kernel python3, stable ids."""
    nb = jupytext.read(source, fmt="py:percent")
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.id = f"{source.stem[:2]}-{i:03d}"  # deterministic: a rebuild changes nothing
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    args = parser.parse_args(argv)
    stale = []
    for source in sources():
        text, path = render(source), target(source)
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text)
    if args.check and stale:
        print(f"out of date (run python notebooks/build.py): {', '.join(stale)}")
        return 1
    print(f"{'stale' if args.check else 'written'}: {', '.join(stale) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
