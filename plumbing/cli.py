"""What the project's command lines share."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Mapping, Sequence


def dispatch(parser: argparse.ArgumentParser, argv: list[str] | None, pass_through: Mapping[str, str]) -> int:
    """Run the command `argv` names. A command in `pass_through` owns its
    options: its module's `main` gets everything after the command word
    (argparse's REMAINDER would drop a leading --option). Ctrl-C is exit 130."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] in pass_through:
            return importlib.import_module(pass_through[argv[0]]).main(argv[1:])
        args = parser.parse_args(argv)
        return args.func(args)
    except KeyboardInterrupt:
        return 130


def run_command(command: Callable[[], int], refusals: Mapping[type[Exception], str] | None = None) -> int:
    """Run one command: an exception named in `refusals` is printed on stderr
    as its message (`{}` stands for the exception's text) and exits 1, the
    way a bad data file or setting should end a command; Ctrl-C is exit 130."""
    refusals = refusals or {}
    try:
        return command()
    except tuple(refusals) as exc:
        template = next(m for kind, m in refusals.items() if isinstance(exc, kind))
        print(template.format(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def own_arguments(argv: Sequence[str] | None) -> list[str]:
    """A pass-through command's own arguments: `python -m devtools bench-bridge
    -- --quick` hands the separator on with the rest, so drop it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return argv[1:] if argv[:1] == ["--"] else argv


def whole_days(text: str) -> int:
    """argparse type for a --days option: a whole number of days, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value
