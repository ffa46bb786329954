"""Errors a user can cause and understand. Each message says what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path


class CmoDeskError(Exception):
    """A problem the user can act on. The CLI prints ``str(err)`` as one line and exits 2."""

    exit_code = 2


class ProjectError(CmoDeskError):
    """The project file cannot be used (missing, damaged, wrong kind, too new)."""


class NewerProjectError(ProjectError):
    """The file was written by a newer, incompatible version of CMO Desk."""


class DamagedProjectError(ProjectError):
    """The file failed an integrity check or is not a CMO Desk project.

    ``problem`` says what is wrong without the advice on what to do, for a caller that knows
    better advice (the latest good backup, ``latest_backup``, when one was looked for).
    """

    def __init__(self, message: str, *, problem: str | None = None,
                 latest_backup: Path | None = None) -> None:
        super().__init__(message)
        self.problem = message if problem is None else problem
        self.latest_backup = latest_backup


class WrongProjectError(ProjectError):
    """A file to merge belongs to a different project."""


class ReadOnlyError(ProjectError):
    """The project is open read-only (another desk has it open)."""


class ValidationError(CmoDeskError):
    """A value or template is not acceptable."""


class ImportFailed(CmoDeskError):
    """A file could not be imported; nothing was written."""


class PasswordRequired(ImportFailed):
    """An encrypted PDF needs its password."""


class Cancelled(CmoDeskError):
    """The user cancelled a long operation; nothing was written."""


class ExportFailed(CmoDeskError):
    """A file could not be written; any earlier file of that name is untouched."""


class HubError(CmoDeskError):
    """The team hub cannot be reached or refused a request; nothing local was lost."""


class HubPasswordNeeded(HubError):
    """The hub asked for a password (or refused the one given)."""


class StorageError(ProjectError):
    """The disk refused a read or write (full, read-only, failing, damaged file, busy).

    ``kind`` is one of ``cmo_desk.domain.storage.KINDS``; nothing was saved by the failed step.
    """

    def __init__(self, message: str, kind: str = "io") -> None:
        super().__init__(message)
        self.kind = kind
