"""import, import-cmocs, search: bringing studies in and finding words in their texts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cmo_desk.cli.common import add_project_arg, open_session
from cmo_desk.cli.output import Progress, print_json
from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr

if TYPE_CHECKING:  # the services load when their command runs
    from cmo_desk.importers.sandbox import ReaderPool
    from cmo_desk.services.cmoc_import import CmocImportSummary
    from cmo_desk.services.importing import ImportSummary


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("import", parents=[parent],
                       help="import reference exports and full texts (files or folders)")
    add_project_arg(p)
    p.add_argument("paths", metavar="FILE_OR_FOLDER", type=Path, nargs="+",
                   help="RIS, BibTeX, MEDLINE, EndNote XML, CSL-JSON, PDF, DOCX, ODT, TXT, "
                        "HTML; or a REFI-QDA project (.qdpx, .qdc) on its own")
    p.add_argument("--password", metavar="P", help="password of encrypted PDFs")
    p.add_argument("--ocr", action="store_true",
                   help="recognise the text of scanned PDFs (OCR, no network needed)")
    p.add_argument("--ocr-lang", metavar="LANGS", default=None,
                   help="languages to recognise, e.g. eng+rus or chi_sim")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("import-cmocs", parents=[parent],
                       help="import CMOCs from a spreadsheet (.csv or .xlsx), one per row")
    add_project_arg(p)
    p.add_argument("sheet", metavar="SHEET", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_import_cmocs)

    p = sub.add_parser("search", parents=[parent], help="find words in the studies' full texts")
    add_project_arg(p)
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N pages (50)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_search)


def cmd_import(args: argparse.Namespace) -> int:
    # The children that read the full texts start first, and read while this process loads the
    # import service and the project's store.
    reader = _start_readers(args)
    try:
        from cmo_desk.services.importing import import_paths, read_ahead

        refi = _refi_files(args.paths)
        if refi:
            if reader is not None:
                reader.close()
            return _import_refi(args, refi)
        if reader is not None:
            read_ahead(args.paths, password=args.password, reader=reader)
        with open_session(args) as session:
            summary = import_paths(session, args.paths, password=args.password,
                                   progress=Progress(tr("Importing")), reader=reader)
    finally:
        if reader is not None:
            reader.close()
    if args.json:
        print_json(summary.to_dict())
    else:
        _print_import(summary)
    if args.ocr and summary.needs_ocr:
        from cmo_desk.cli.commands.recognising import recognise_needing_ocr

        recognise_needing_ocr(args)
    if summary.errors:
        # The files that were read are in the project; the others must not pass unnoticed in a
        # script or a batch.
        given = summary.files_read + len(summary.errors)
        print("cmo-desk: " + tr("{failed} of {total} files were not imported: {files}. The others "
                                "were imported.").format(
            failed=len(summary.errors), total=given, files=", ".join(summary.errors)),
            file=sys.stderr)
        for file, message in summary.errors.items():
            print(f"  {file}: {message}", file=sys.stderr)
        return 1
    return 0


def _start_readers(args: argparse.Namespace) -> ReaderPool | None:
    """A started pool of reading children, or None when there is no project to import into. It
    is started before the import service loads (a REFI-QDA project, found by that service,
    closes it unused)."""
    from cmo_desk.importers.sandbox import ReaderPool

    if not args.project.is_file():
        return None
    reader = ReaderPool()
    reader.start()
    return reader


def _refi_files(paths: list[Path]) -> list[Path]:
    from cmo_desk.services.importing import is_refi_file

    return [p for p in paths if is_refi_file(p)]


def _import_refi(args: argparse.Namespace, refi: list[Path]) -> int:
    from cmo_desk.services.importing import import_refi_file

    if len(args.paths) > 1:
        raise ImportFailed(tr("Import a REFI-QDA project (.qdpx, .qdc) on its own, "
                              "without other files."))
    with open_session(args) as session:
        result = import_refi_file(session, refi[0], Progress(tr("Importing")))
    to_dict = getattr(result, "to_dict", None)
    if args.json:
        print_json(to_dict() if to_dict else result)
    elif result is not None:
        print(result)
    return 0


def _print_import(summary: ImportSummary) -> None:
    from cmo_desk.services.import_report import report_lines

    for line in report_lines(summary):
        print(line)


def cmd_import_cmocs(args: argparse.Namespace) -> int:
    from cmo_desk.services.cmoc_import import import_cmoc_sheet

    with open_session(args) as session:
        summary = import_cmoc_sheet(session, args.sheet, progress=Progress(tr("Importing")))
    if args.json:
        print_json(summary.to_dict())
    else:
        _print_cmocs(summary)
    if summary.cmocs_added == 0 and not summary.duplicate_rows:
        print(tr("cmo-desk: no CMOC was imported from {name}: no row matched a study. Check "
                 "the 'study' column.").format(name=args.sheet.name), file=sys.stderr)
        return 1
    return 0


def _print_cmocs(summary: CmocImportSummary) -> None:
    print(tr("CMOCs added: {n}").format(n=summary.cmocs_added) + (
        " (" + ", ".join(f"{name}: {n}" for name, n in sorted(summary.by_coder.items())) + ")"
        if summary.by_coder else ""))
    print(tr("Excerpts anchored in the texts: {n}").format(n=summary.excerpts_added))
    if summary.codes_created:
        print(tr("New codes created: {codes}").format(codes=", ".join(summary.codes_created)))
    for title, problems in ((tr("Rows not imported:"), summary.unmatched_rows),
                            (tr("Quotes not found (kept in the CMOC memo):"),
                             summary.quotes_not_found),
                            (tr("Rows already imported:"), summary.duplicate_rows)):
        if problems:
            print(title)
            for problem in problems:
                print("  " + tr("row {row}: {message}").format(row=problem.row,
                                                              message=problem.message))
    for warning in summary.warnings:
        print(tr("Warning: {message}").format(message=warning))


def cmd_search(args: argparse.Namespace) -> int:
    with open_session(args, read_only=True) as session:
        hits = session.store.search(args.query, limit=max(1, args.limit))
    if args.json:
        print_json([{"study_id": h.study_id, "study_label": h.study_label,
                     "document_id": h.document_id, "page": h.page, "snippet": h.snippet}
                    for h in hits])
        return 0
    if not hits:
        print(tr("No page contains '{query}'.").format(query=args.query))
        return 0
    for hit in hits:
        print(f"{hit.study_label}  {tr('p. {page}').format(page=hit.page)}  {hit.snippet}")
    return 0
