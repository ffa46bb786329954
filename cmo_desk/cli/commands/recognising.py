"""recognise: read the text of scanned studies (OCR), offline."""

from __future__ import annotations

import argparse
import sys

from cmo_desk.cli.common import add_project_arg, open_session
from cmo_desk.cli.output import Progress, print_json
from cmo_desk.domain.i18n import tr


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("recognise", parents=[parent],
                       help="recognise the text of scanned PDFs (OCR, no network needed)")
    add_project_arg(p)
    p.add_argument("studies", metavar="STUDY", nargs="*",
                   help="study labels (default: every study whose text needs OCR)")
    p.add_argument("--ocr-lang", metavar="LANGS", default=None,
                   help="languages to recognise, e.g. eng+rus or chi_sim "
                        "(default: the installed ones of eng+rus)")
    p.add_argument("--again", action="store_true",
                   help="recognise studies that already have text too (excerpts are found "
                        "again by their quotes)")
    p.add_argument("--password", metavar="P", help="password of encrypted PDFs")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_recognise)


def ocr_languages(args: argparse.Namespace) -> list[str] | None:
    value = getattr(args, "ocr_lang", None)
    return [code for code in value.replace(",", "+").split("+") if code] if value else None


def recognise_documents(session: object, documents: list, args: argparse.Namespace) -> list[dict]:
    """Recognise each document; one line per document on stdout (or the JSON rows)."""
    from cmo_desk.services.recognition import recognise_document

    rows = []
    for doc in documents:
        result = recognise_document(session, doc.id, ocr_languages(args),  # type: ignore[arg-type]
                                    getattr(args, "password", None),
                                    progress=Progress(tr("Recognising {name}").format(
                                        name=doc.filename or "")))
        rows.append({"file": doc.filename, "document_id": result.document_id,
                     "pages": result.pages, "confidence": round(result.confidence, 3),
                     "engine": result.engine, "excerpts_moved": result.moved,
                     "excerpts_not_found": len(result.unplaced)})
        if not args.json:
            print(f"{doc.filename}: {result.summary()}")
    return rows


def recognise_needing_ocr(args: argparse.Namespace) -> int:
    """After an import with --ocr: recognise every study that still needs it."""
    args.studies, args.again = [], False
    if args.json:
        args.json = False
    return cmd_recognise(args)


def cmd_recognise(args: argparse.Namespace) -> int:
    from cmo_desk.domain.errors import ValidationError
    from cmo_desk.services import desk_rules

    with open_session(args) as session:
        wanted = None
        if args.studies:
            found = {label: desk_rules.studies_labelled(session, label) for label in args.studies}
            missing = [label for label, ids in found.items() if not ids]
            if missing:
                raise ValidationError(tr("No study is labelled {labels}. See 'cmo-desk info'.").format(
                    labels=", ".join(missing)))
            wanted = {sid for ids in found.values() for sid in ids}
        docs = [d for d in session.store.list("document")
                if (wanted is None or d.study_id in wanted)
                and (d.needs_ocr or (args.again and d.media_type == "application/pdf"))]
        if not docs:
            print(tr("No study here needs text recognition."), file=sys.stderr)
            return 0
        rows = recognise_documents(session, docs, args)
    if args.json:
        print_json(rows)
    return 0
