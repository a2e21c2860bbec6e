"""Citations: every paper reference exists in docs/course.md's table, every official file exists.

The paper's sections, tables, figures and equations are listed once, in docs/course.md
("The paper's structure"); the official repository's files in
tests/official_timesformer_files.txt (its header says how that list was made). A lesson,
exercise, README, doc or package docstring that cites anything else fails here.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# --- the reference table ---


def _paper_structure() -> dict[str, set[str]]:
    """Section ('§4.1', 'Appendix A') -> its tables and figures ('Table 1', 'Fig. 3')."""
    text = (ROOT / "docs" / "course.md").read_text()
    rows = text.split("## The paper's structure")[1].split("\n## ")[0].splitlines()
    table = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        name = re.match(r"(§\d(?:\.\d)?|Appendix A)\b", cells[0]) if len(cells) == 4 else None
        if name:
            table[name.group(1)] = set(re.findall(r"(?:Table|Fig\.) \d+", cells[2]))
            table[name.group(1)] |= cited_items(cells[1], kinds=("Eq.",))
    return table


# "Table 1", "Tables 2 and 5", "Tables 5–7", "Figs. 1–2", "Eq. 2-5", "Eq. 11 and 6"
ITEMS = re.compile(r"\b(Tables?|Figs?\.|Eqs?\.) (\d+(?:\s*[–-]\s*\d+)?(?:(?:, | and )\d+)*)")


def cited_items(text: str, kinds=("Table", "Fig.", "Eq.")) -> set[str]:
    """Every table, figure and equation a text cites, ranges and lists expanded."""
    found = set()
    for word, numbers in ITEMS.findall(text):
        kind = {"Tables": "Table", "Figs.": "Fig.", "Eqs.": "Eq."}.get(word, word)
        for part in re.split(r", | and ", numbers):
            first, _, last = re.sub(r"\s", "", part).replace("–", "-").partition("-")
            for n in range(int(first), int(last or first) + 1):
                found.add(f"{kind} {n}")
    return {item for item in found if item.startswith(kinds)}


PAPER = _paper_structure()
LISTED = set().union(*PAPER.values())
# "§4.8 and Fig. 7", "§4.1, Fig. 3", "§4.4 and Table 4" ... and "Fig. 6 (§4.5)"
SECTION_THEN_ITEM = re.compile(r"§(\d(?:\.\d)?)(?: and |, )((?:Table|Fig\.) \d+)")
ITEM_THEN_SECTION = re.compile(r"((?:Table|Fig\.) \d+) \(§(\d(?:\.\d)?)\)")


def citation_errors(text: str) -> list[str]:
    """What a text cites that docs/course.md's table does not list (or lists elsewhere)."""
    text = " ".join(text.replace("#", " ").split())  # lesson comments joined into prose
    errors = [
        f"no section {s}"
        for s in sorted({f"§{s}" for s in re.findall(r"§(\d(?:\.\d)?)", text)} - set(PAPER))
    ]
    errors += [f"not in the table: {item}" for item in sorted(cited_items(text) - LISTED)]
    pairs = [(f"§{s}", item) for s, item in SECTION_THEN_ITEM.findall(text)]
    pairs += [(f"§{s}", item) for item, s in ITEM_THEN_SECTION.findall(text)]
    errors += [f"{item} is not in {s}" for s, item in pairs if s in PAPER and item not in PAPER[s]]
    return errors


# --- the official repository's files ---

OFFICIAL = [
    line.strip()
    for line in (ROOT / "tests" / "official_timesformer_files.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
TRACKED = subprocess.run(
    ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
).stdout.split()
# files of other projects that the docs name (not the official TimeSformer's)
OTHER_PROJECTS = {"arrange_by_classes.py", "k400_downloader.sh"}  # CVDF's Kinetics scripts
BACKTICKED = re.compile(r"`([A-Za-z0-9_][\w./-]*\.(?:py|yaml|sh))`")
OFFICIAL_PATH = re.compile(r"(?<![\w/])((?:timesformer|configs|tools|slurm_scripts)/[\w./-]*\w)")


def _is(name: str, paths) -> bool:
    return any(p == name or p.endswith("/" + name) for p in paths)


def official_file_errors(text: str) -> list[str]:
    """Cited files that are neither this project's nor in the official repository's list."""
    errors = []
    for name in set(BACKTICKED.findall(text)):
        if name.startswith("runs/") or "NN_" in name or name in OTHER_PROJECTS:
            continue  # run outputs and file-name templates
        if not _is(name, TRACKED) and not _is(name, OFFICIAL):
            errors.append(f"neither ours nor official: {name}")
    for path in set(OFFICIAL_PATH.findall(text)):
        if path.endswith((".py", ".yaml", ".sh", ".md")) and path not in OFFICIAL:
            errors.append(f"not an official file: {path}")
    return sorted(errors)


# --- everything that cites ---

SOURCES = sorted(
    [
        *ROOT.glob("notebooks/src/*.py"),
        *ROOT.glob("exercises/source/*.py"),
        ROOT / "exercises" / "README.md",
        ROOT / "README.md",
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("mini_timesformer/**/*.py"),
    ]
)
IDS = [str(p.relative_to(ROOT)) for p in SOURCES]


def test_the_reference_table_lists_the_papers_sections():
    assert {"§3", "§4", "§4.1", "§4.6", "§4.8", "Appendix A"} <= set(PAPER)
    assert "Table 8" in PAPER["§4.6"] and "Fig. 7" in PAPER["§4.8"] and "Table 2" in PAPER["§4.2"]
    assert {f"Eq. {n}" for n in range(1, 12)} <= PAPER["§3"]  # Eqs. 1-11 are all in §3


def test_ranges_and_lists_are_expanded():
    assert cited_items("Tables 2 and 5, Figs. 1–2, Eq. 2-4, Eq. 11 and 6") == {
        "Table 2",
        "Table 5",
        "Fig. 1",
        "Fig. 2",
        "Eq. 2",
        "Eq. 3",
        "Eq. 4",
        "Eq. 11",
        "Eq. 6",
    }


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_paper_citations_exist_in_the_reference_table(path):
    errors = citation_errors(path.read_text())
    assert not errors, f"{path.name}: per docs/course.md: {errors}"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_cited_official_files_exist(path):
    errors = official_file_errors(path.read_text())
    assert not errors, f"{path.name}: {errors} (tests/official_timesformer_files.txt)"


def test_planted_wrong_citations_are_caught():
    real = (ROOT / "notebooks" / "src" / "01_video_as_patches.py").read_text()
    assert not citation_errors(real) and not official_file_errors(real)
    planted = real + (
        "\n# As §4.9 and Table 9 show (Eq. 12), see Fig. 7 (§4.1) and the\n"
        "# official `timesformer/models/vitt.py`, `decoders.py` and\n"
        "# configs/Kinetics/TimeSformer_divST_8x64_224.yaml.\n"
    )
    assert citation_errors(planted) == [
        "no section §4.9",
        "not in the table: Eq. 12",
        "not in the table: Table 9",
        "Fig. 7 is not in §4.1",
    ]
    assert official_file_errors(planted) == [
        "neither ours nor official: decoders.py",
        "neither ours nor official: timesformer/models/vitt.py",
        "not an official file: configs/Kinetics/TimeSformer_divST_8x64_224.yaml",
        "not an official file: timesformer/models/vitt.py",
    ]
