"""What both command lines share (`lipeval` and the trainer's `python -m lipeval.train`): argument types
and the wrapper that turns lipeval's errors and Ctrl-C into a message and an exit status.

It lives apart from either command line so that neither imports the other for it.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from lipeval.errors import LipevalError


def positive_int(s: str) -> int:
    """argparse type: an integer above zero."""
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}")
    return v


def add_include_path(parser: argparse.ArgumentParser) -> None:
    """`--include-path DIR` (repeatable): folders of the user's own task YAML files (lipeval.registry)."""
    parser.add_argument("--include-path", action="append", default=[], metavar="DIR",
                        help="a folder of your own task YAML files, read after the shipped ones (repeatable; "
                             "also $LIPEVAL_INCLUDE, folders separated by the path separator)")


def run_command(command: Callable[[], int], prog: str, interrupted: str) -> int:
    """`command()`'s exit status; a LipevalError prints "PROG: error: MESSAGE" and gives 2 (no traceback: the
    message names the problem), Ctrl-C prints "PROG: INTERRUPTED" and gives 130 (the shell's 128 + SIGINT)."""
    try:
        return command()
    except LipevalError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130
