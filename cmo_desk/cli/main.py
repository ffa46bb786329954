"""``cmo-desk SUBCOMMAND ...``: argument parsing, the coder option, and error reporting.

A user's mistake prints one line to stderr and exits non-zero; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
from collections.abc import Iterable, Sequence

from cmo_desk import __version__
from cmo_desk.cli import COMMAND_MODULES, command_word, commands
from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import LANGUAGES, set_language, system_language, tr, translate_argparse
from cmo_desk.domain.storage import storage_error


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the usage block
        command = f"cmo-desk {self.prog.split()[-1]}" if " " in self.prog else "cmo-desk"
        self.exit(2, f"cmo-desk: {message} " + tr("(see '{command} --help')").format(command=command)
                  + "\n")


def _language_before_parsing(argv: Sequence[str]) -> None:
    """--lang (before or after the command), else $CMO_DESK_LANG, else the computer's language:
    set before the arguments are read, so a mistyped command is told in that language too."""
    given = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            given = argv[i + 1]
        elif arg.startswith("--lang="):
            given = arg.split("=", 1)[1]
    set_language(given or os.environ.get("CMO_DESK_LANG") or system_language())


def common_options(parser: argparse.ArgumentParser | None = None,
                   suppress: bool = True) -> argparse.ArgumentParser:
    """--coder and --lang, accepted before or after the subcommand."""
    parent = parser or argparse.ArgumentParser(add_help=False)
    default = argparse.SUPPRESS if suppress else None
    parent.add_argument("--coder", metavar="NAME", default=default,
                        help="who is working (default: $CMO_DESK_CODER)")
    parent.add_argument("--lang", metavar="LANG", default=default,
                        help="language of messages (default: $CMO_DESK_LANG, else the computer's): "
                        + ", ".join(LANGUAGES))
    return parent


def build_parser(only: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with only those of the command modules named in
    ``only`` (a command imports its services only when it is the one given)."""
    parser = _Parser(prog="cmo-desk", description="CMO Desk: realist review coding.")
    parser.add_argument("--version", action="version", version=f"cmo-desk {__version__}")
    common_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parent = common_options()
    names = sorted(set(COMMAND_MODULES.values()) if only is None else set(only))
    for name in names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        register = getattr(module, "register", None)
        if register:
            register(sub, parent)
    return parser


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """Only the module of the command given; every module for help without a command."""
    word = command_word(list(argv))
    if word in COMMAND_MODULES:
        return build_parser([COMMAND_MODULES[word]])
    if word is None and not {"-h", "--help"} & set(argv):
        return build_parser([])  # --version, or no command: usage only
    return build_parser()


def run(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _language_before_parsing(argv)
    translate_argparse()
    parser = parser_for(argv)
    args = parser.parse_args(argv)
    # --lang, then CMO_DESK_LANG, then the computer's own language (as the desk does)
    set_language(getattr(args, "lang", None) or os.environ.get("CMO_DESK_LANG") or system_language())
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CmoDeskError as err:
        print(f"cmo-desk: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("cmo-desk: " + tr("interrupted; nothing more was written."), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (OSError, sqlite3.Error) as err:  # a full, read-only or failing disk: one plain line
        problem = storage_error(err, getattr(args, "project", None))
        print(f"cmo-desk: {problem or err}", file=sys.stderr)
        return 2
