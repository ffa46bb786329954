"""The command line: the headless path through every use case."""

#: Every subcommand's name. ``cmo-desk WORD`` runs the command line when WORD is one of these and
#: opens the desk otherwise, decided without importing the commands (start-up speed); a test
#: checks this list against the registered commands.
COMMAND_NAMES = frozenset({
    "agreement", "assign", "backups", "bundle", "check", "conflicts", "demo", "dump",
    "duplicates", "export", "import", "import-cmocs", "info", "merge", "new", "repair", "resolve",
    "restore", "search", "submit",
})
