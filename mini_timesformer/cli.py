"""``mini-timesformer`` command line (also ``python -m mini_timesformer``).

Each feature module registers its own subcommands with ``add_commands(subparsers)``;
this file only wires them together and turns expected errors into one-line messages.
"""

from __future__ import annotations

import argparse
import sys

from .summary import format_table1, table1_rows


def _summary(args) -> int:
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
        description="TimeSformer (Bertasius et al., ICML 2021): all five attention schemes.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("summary", help="the five schemes side by side vs the paper's Table 1")
    p.add_argument("--preset", default="base", help="model size (default: base, as the paper)")
    p.set_defaults(func=_summary)
    p = sub.add_parser("demo", help="the course's main job: train and compare all five schemes")
    p.add_argument("--out", default="runs/demo")
    from .demo import add_arguments as add_demo_arguments

    add_demo_arguments(p)
    for add_commands in _feature_commands():
        add_commands(sub)
    return parser


def _feature_commands():
    """The ``add_commands`` functions of the feature modules (imported lazily = fast --help)."""
    from . import bench, curves, exercises, predict, train_cli
    from .data import cli as data_cli

    return [predict.add_commands, curves.add_commands, train_cli.add_commands,
            bench.add_commands, exercises.add_commands, data_cli.add_commands]


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (ValueError, FileNotFoundError, NotADirectoryError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"mini-timesformer {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
