"""The command line: the headless path through every use case."""

from __future__ import annotations

#: Every subcommand's name and the module of cli/commands that registers it. ``cmo-desk WORD``
#: runs the command line when WORD is one of these and opens the desk otherwise, and only the
#: module of the command given is imported (start-up speed); a test checks this table against
#: the registered commands.
COMMAND_MODULES = {
    "agreement": "teamwork", "assign": "teamwork", "bundle": "teamwork",
    "conflicts": "teamwork", "duplicates": "teamwork", "merge": "teamwork",
    "resolve": "teamwork", "submit": "teamwork", "repair": "teamwork",
    "backups": "safety", "check": "safety", "restore": "safety", "salvage": "safety",
    "demo": "project", "dump": "project", "info": "project", "new": "project",
    "export": "exporting",
    "import": "importing", "import-cmocs": "importing", "search": "importing",
    "recognise": "recognising",
    "hub": "hubsync", "sync": "hubsync",
}
COMMAND_NAMES = frozenset(COMMAND_MODULES)

#: Options of the top level that take a value (the word after them names no command).
VALUE_OPTIONS = ("--coder", "--lang")


def command_word(argv: list[str]) -> str | None:
    """The first word that is not an option (nor the value of --coder/--lang)."""
    words = iter(argv)
    for word in words:
        if word in VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None
