"""The report of an import, as the command line prints it and the desk shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cmo_desk.domain.i18n import tr

if TYPE_CHECKING:
    from cmo_desk.services.importing import ImportSummary


#: Lines of a list (duplicates, links) an import report shows before "... and N more".
REPORT_SHOWN = 20


def worth_reading(summary: ImportSummary) -> bool:
    """Whether the report holds more than counts: something lost, skipped, proposed or warned
    about that the team should check."""
    return bool(summary.duplicate_references or summary.duplicate_files or summary.proposed_links
                or summary.identifiers_added or summary.needs_ocr or summary.warnings
                or summary.skipped
                or any(read != found for read, found in summary.records.values()))


def report_lines(summary: ImportSummary, shown: int = REPORT_SHOWN,
                 every_file: bool = True) -> list[str]:
    """What the import did, line by line: records read against records in each file (with
    ``every_file`` False, only the files not wholly read), what was added, every duplicate
    skipped with the study it matched, links made and proposed, and every warning. A list longer
    than ``shown`` says how many more it holds."""
    lines: list[str] = []

    def listed(items: list[Any], line: Any) -> None:
        lines.extend("  " + line(item) for item in items[:shown])
        if len(items) > shown:
            lines.append("  " + tr("... and {count} more").format(count=len(items) - shown))

    for file, (read, found) in summary.records.items():
        if read == found and not every_file:
            continue
        lines.append(tr("{file}: {read} of {found} records read").format(
            file=file, read=read, found=found))
    lines.append(tr("Studies added: {n}").format(n=summary.studies_added))
    lines.append(tr("Documents added: {n}").format(n=summary.documents_added))
    lines.append(tr("Duplicates skipped: {n} ({refs} references, {files} files)").format(
        n=summary.duplicates_skipped, refs=len(summary.duplicate_references),
        files=len(summary.duplicate_files)))
    how_words = {"doi": tr("by DOI"), "title": tr("by title"), "new": tr("new study"),
                 "confirmed": tr("confirmed")}
    if summary.linked:
        lines.append(tr("Full texts:"))
        listed(summary.linked, lambda link: f"{link.file} -> {link.study_label} "
                                          f"({how_words.get(link.how, link.how)})")
    if summary.proposed_links:
        lines.append(tr("Possible matches, not linked (each file became a study of its own; "
                        "check them):"))
        listed(summary.proposed_links, lambda p: tr("{file} may be {study}: {reasons}").format(
            file=p.file, study=p.study_label, reasons="; ".join(p.reasons)))
    if summary.duplicate_references:
        lines.append(tr("References already in the project (not imported again):"))
        listed(summary.duplicate_references, lambda d: f"{d.file}: {d.item}"
                                                    + (f" ({d.study_label})" if d.study_label else ""))
    if summary.identifiers_added:
        lines.append(tr("Identifiers copied from skipped duplicates:"))
        listed(summary.identifiers_added, lambda i: f"{i[0]}: {i[1].upper()} {i[2]}")
    if summary.duplicate_files:
        lines.append(tr("Files already in the project:"))
        listed(summary.duplicate_files, lambda d: d.file + (f" ({d.study_label})" if d.study_label
                                                         else ""))
    if summary.needs_ocr:
        lines.append(tr("No text layer — needs OCR before coding: {files}").format(
            files=", ".join(summary.needs_ocr)))
    if summary.warnings:
        lines.append(tr("Warnings:"))
        for file, messages in summary.warnings.items():
            lines.extend(f"  {file}: {message}" for message in messages[:5])
            if len(messages) > 5:
                lines.append("  " + tr("{file}: {count} more warnings").format(
                    file=file, count=len(messages) - 5))
    if summary.skipped:
        lines.append(tr("Not imported (not a kind of file this reads): {files}").format(
            files=", ".join(summary.skipped[:shown]) + (" ..." if len(summary.skipped) > shown
                                                     else "")))
    return lines
