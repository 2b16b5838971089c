"""What the project's command lines share."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Mapping


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
