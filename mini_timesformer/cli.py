"""``mini-timesformer`` command line (also ``python -m mini_timesformer``).

Each subpackage's ``cli.py`` registers its own subcommands with ``add_commands``; this
file only wires them together and turns the package's ``UserError`` (and nothing else:
a bug keeps its traceback) into a one-line message with exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .errors import UserError


def _summary(args) -> int:
    from .perf.table1 import format_table1, table1_rows

    print(format_table1(table1_rows(args.preset)))
    return 0


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (no usage block), exit status 2.

    Subcommand parsers inherit the class, so every command behaves the same.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="mini-timesformer",
        description="TimeSformer (Bertasius et al., ICML 2021): all five attention schemes.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("summary", help="the five schemes side by side vs the paper's Table 1")
    p.add_argument("--preset", default="base", help="model size (default: base, as the paper)")
    p.set_defaults(func=_summary)
    for add_commands in _feature_commands():
        add_commands(sub)
    return parser


def _feature_commands():
    """The ``add_commands`` of each subpackage's ``cli.py``, in ``--help`` order."""
    from .checks import cli as checks_cli
    from .data import cli as data_cli
    from .demo import cli as demo_cli
    from .perf import cli as perf_cli
    from .pretrained import cli as pretrained_cli
    from .train import cli as train_cli

    return [
        demo_cli.add_commands,
        pretrained_cli.add_commands,
        perf_cli.add_commands,
        train_cli.add_commands,
        checks_cli.add_commands,
        data_cli.add_commands,
    ]


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the library's reports
    try:
        return args.func(args) or 0
    except UserError as err:
        message = " ".join(str(err).split())  # one line, whatever the message
        print(f"mini-timesformer {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
