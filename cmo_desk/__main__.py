"""Entry point: a subcommand runs on the command line; otherwise the desk opens."""

from __future__ import annotations

import sys

from cmo_desk import READER_ARGUMENT


def _is_cli(argv: list[str]) -> bool:
    if not argv:
        return False
    if argv[0] in ("-h", "--help", "--version"):
        return True
    from cmo_desk.cli import COMMAND_NAMES, command_word

    first = command_word(argv)
    if first is None:
        return False
    return first in COMMAND_NAMES


def main(argv: list[str] | None = None) -> int:
    from_command_line = argv is None  # (a test passes its arguments and goes on running)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [READER_ARGUMENT]:  # the built program, started to read untrusted files
        from cmo_desk.importers.reader_child import reader_child_main

        reader_child_main(argv[1:])
        return 0
    if _is_cli(argv):
        from cmo_desk.cli.main import run

        code = run(argv)
        if from_command_line:
            _before_exit()
        return code
    from cmo_desk.ui.app import run_desk

    return run_desk(argv)


def _before_exit() -> None:
    """A command has finished and the process is about to end: the objects it made are left out
    of the last garbage collection, which took a tenth of a second once the project store had
    loaded (the operating system frees the memory; every file was closed by the command)."""
    import gc

    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
