"""CMO Desk: code Context-Mechanism-Outcome configurations for realist reviews."""

__version__ = "0.1.0"

#: The argument that starts the program as a child that reads untrusted files (the built program's
#: executable is the desk itself; see cmo_desk/importers/sandbox.py).
READER_ARGUMENT = "--read-untrusted-files"
