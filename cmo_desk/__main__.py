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
    from cmo_desk.cli.main import build_parser

    choices = next(
        (a.choices for a in build_parser()._actions if getattr(a, "choices", None)), {})
    return first in choices


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _is_cli(argv):
        from cmo_desk.cli.main import run

        return run(argv)
    from cmo_desk.ui.app import run_desk

    return run_desk(argv)


if __name__ == "__main__":
    sys.exit(main())
