"""markdown.markdown_table: the one Markdown-table writer of every report."""

import pytest

from mini_timesformer.markdown import markdown_table
from mini_timesformer.perf.curves import format_table, sweep


def test_table_layout_and_alignment():
    text = markdown_table(("scheme", "params"), [("divided", "121,400"), ("space", 7)], "lr")
    lines = text.splitlines()
    assert lines == [
        "| scheme | params |",
        "| --- | ---: |",
        "| divided | 121,400 |",
        "| space | 7 |",
    ]


def test_every_row_has_the_header_width():
    with pytest.raises(ValueError, match="a row has 1 cells, the header 2"):
        markdown_table(("a", "b"), [("only one",)])
    with pytest.raises(ValueError, match="align must be at most 2 letters"):
        markdown_table(("a", "b"), [], "lrr")


def test_a_report_table_parses_back_to_its_rows():
    rows = sweep(schemes=("divided",), sizes=(224,))
    lines = format_table(rows).splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert len(lines) == 2 + len(rows)
    for line, row in zip(lines[2:], rows):
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        assert cells["scheme"] == row["scheme"]
        assert int(cells["size"]) == row["size"]
