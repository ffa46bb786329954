"""Entry point: a subcommand runs on the command line; otherwise the desk opens."""

from __future__ import annotations

import sys


def _is_cli(argv: list[str]) -> bool:
    if not argv:
        return False
    if argv[0] in ("-h", "--help", "--version"):
        return True
    # The first word that is not an option (or the value of --coder/--lang) names a subcommand.
    words = iter(argv)
    first = None
    for word in words:
        if word in ("--coder", "--lang"):
            next(words, None)
        elif not word.startswith("-"):
            first = word
            break
    if first is None:
        return False
    from cmo_desk.cli import COMMAND_NAMES

    return first in COMMAND_NAMES


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _is_cli(argv):
        from cmo_desk.cli.main import run

        return run(argv)
    from cmo_desk.ui.app import run_desk

    return run_desk(argv)


if __name__ == "__main__":
    sys.exit(main())
