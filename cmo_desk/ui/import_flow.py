"""Importing from the desk: locked PDFs ask for their password, REFI-QDA files import here too.

The desk never sends the coder to the command line: a PDF that needs a password is asked for it
(per file, again when wrong, skipped when cancelled), and a REFI-QDA project or codebook is
imported by the same background task as everything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmo_desk.domain.errors import Cancelled, CmoDeskError
from cmo_desk.domain.i18n import tr
from cmo_desk.services import desk_import, importing
from cmo_desk.services.import_report import report_lines, worth_reading

if TYPE_CHECKING:
    from cmo_desk.ui.main_window import MainWindow


def ask_passwords(dialogs: Any, locked: list[Path]) -> tuple[dict[Path, str], list[Path]]:
    """Each locked PDF's password, asked until it opens the file; and the files skipped."""
    passwords: dict[Path, str] = {}
    skipped: list[Path] = []
    for path in locked:
        prompt = tr("{name} is protected by a password. Type its password to import it:").format(
            name=path.name)
        while True:
            answer = dialogs.ask_password(tr("Password for {name}").format(name=path.name),
                                          prompt)
            if answer is None:
                skipped.append(path)
                break
            if desk_import.password_opens(path, answer):
                passwords[path] = answer
                break
            prompt = tr("That password does not open {name}. Try again, or cancel to skip "
                        "this file:").format(name=path.name)
    return passwords, skipped


def start_desk_import(window: MainWindow, paths: list[str]) -> Any:
    """Import ``paths`` in the background; returns the task (None when nothing is left)."""
    refi = [p for p in paths if importing.is_refi_file(p)]
    others = [p for p in paths if p not in refi]
    locked = desk_import.locked_pdfs(others)
    passwords, skipped = ask_passwords(window.dialogs, locked)
    plain = [p for p in others if Path(p) not in set(locked)]
    locked_names = {p.name for p in locked}
    if not plain and not passwords and not refi:
        if skipped:
            window.statusBar().showMessage(tr("Nothing imported: no password was given."), 8000)
        return None

    def work(session: Any, progress: Any, cancelled: Any) -> Any:
        summaries: list[Any] = []
        messages: list[str] = []
        problems: list[str] = []
        jobs: list[tuple[str, Any]] = []
        if plain:
            jobs.append(("files", lambda: importing.import_paths(
                session, plain, progress=progress, cancel=cancelled)))
        for path, password in passwords.items():
            jobs.append(("files", lambda p=path, pw=password: importing.import_paths(
                session, [p], password=pw, progress=progress, cancel=cancelled)))
        for path in refi:
            jobs.append(("refi", lambda p=path: importing.import_refi_file(
                session, p, progress=progress, cancel=cancelled)))
        for kind, job in jobs:
            try:
                result = job()
            except CmoDeskError as err:
                if not isinstance(err, Cancelled):
                    problems.append(str(err))
                    continue
                raise
            if kind == "refi":
                lines = result.lines() if hasattr(result, "lines") else [str(result)]
                messages.extend(lines)
            else:
                summaries.append(result)
                for name, why in (getattr(result, "errors", {}) or {}).items():
                    if Path(name).name in locked_names:
                        continue  # asked for its password and imported on its own
                    problems.append(f"{name}: {why}")
        return summaries, messages, problems

    def done(result: Any) -> None:
        summaries, messages, problems = result
        totals = {key: sum(getattr(s, key, 0) for s in summaries)
                  for key in ("studies_added", "documents_added", "duplicates_skipped")}
        line = tr("Import finished: {studies} new studies, {documents} full texts, {duplicates} "
                  "duplicates skipped, {errors} files not imported.").format(
            studies=totals["studies_added"], documents=totals["documents_added"],
            duplicates=totals["duplicates_skipped"], errors=len(problems) + len(skipped))
        window.statusBar().showMessage(line, 15000)
        # What the team must check is said, not only counted: records a file held but that
        # could not be read, duplicates skipped and the studies they matched, warnings.
        report = [text for s in summaries if worth_reading(s)
                  for text in report_lines(s, shown=8, every_file=False)]
        failed = [tr("{name}: skipped, no password was given.").format(name=p.name)
                  for p in skipped] + problems
        if failed:
            window.dialogs.error("\n".join([*failed, *messages, *report]))
        elif messages or report:
            window.dialogs.info("\n".join([*messages, *report]))
        window.last_import = (summaries, messages, problems, skipped)

    return window.run_task(tr("Importing"), work, done)
