"""export: evidence tables (.docx, .xlsx, .csv) and REFI-QDA files (.qdpx, .qdc)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cmo_desk.cli.common import add_project_arg, open_session
from cmo_desk.cli.output import Progress, print_json
from cmo_desk.domain.i18n import current_language, tr
from cmo_desk.exporters.tables import (
    EMPTY_CHOICES,
    GROUPINGS,
    OPTIONAL_COLUMNS,
    RECORD_CHOICES,
    TABLES,
    ExportOptions,
)
from cmo_desk.services.exporting import (
    FORMATS,
    check_target,
    export_project,
    refuse_options_that_do_not_apply,
)
from cmo_desk.services.synthesis import SYNTHESIS_TABLES, check_synthesis_target, export_synthesis


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "export", parents=[parent],
        help="write an evidence table (.docx, .xlsx, .csv) or a REFI-QDA file (.qdpx, .qdc)",
        description="Write the project to OUT; the format follows the extension ("
        + ", ".join(FORMATS) + "). --lang also sets the language of the table.",
    )
    add_project_arg(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                   help="the file to write: " + ", ".join(FORMATS))
    p.add_argument("--table", choices=(*TABLES, *SYNTHESIS_TABLES), default=None,
                   help="which table (default: evidence); theories (.docx, or its diagram as "
                   ".svg/.png), matrix (.xlsx, .csv, .docx) and ledger (.docx, .csv) are the "
                   "synthesis tables")
    p.add_argument("--group-by", choices=GROUPINGS, default=None,
                   help="headings that group the rows (default: study)")
    p.add_argument("--records", choices=RECORD_CHOICES, default=None,
                   help="consensus CMOCs and every coder CMOC no consensus covers (default); "
                   "only the coders'; or all")
    p.add_argument("--columns", metavar="A,B", default=None,
                   help="extra evidence-table columns: " + ", ".join(OPTIONAL_COLUMNS))
    p.add_argument("--empty", choices=EMPTY_CHOICES, default=None,
                   help="what an empty CMOC slot shows in Word: blank (default), NR or dash")
    p.add_argument("--caption", default=None, metavar="TEXT",
                   help='the Word table\'s caption (default "Table S1"; "" for none)')
    p.add_argument("--tidy", action="store_true",
                   help="also write tidy companions beside a .csv or .xlsx table: studies, "
                   "CMOCs, CMOC-excerpt pages and quotes, form values per coder")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    if args.table in SYNTHESIS_TABLES:
        return _export_synthesis(args)
    # Refuse a wrong name or folder before opening the project: the mistake is in the command.
    check_target(args.output)
    given = {name for name in ("table", "group_by", "records", "columns", "empty", "caption")
             if getattr(args, name) is not None}
    if args.tidy:
        given.add("tidy")
    refuse_options_that_do_not_apply(args.output, args.table or "evidence", given)
    options = ExportOptions(
        table=args.table or "evidence", group_by=args.group_by or "study",
        records=args.records or "consensus", lang=args.lang or current_language(),
        tidy=args.tidy, empty=args.empty or "blank", caption=args.caption,
        columns=tuple(c.strip() for c in (args.columns or "").split(",") if c.strip()),
    )
    with open_session(args, read_only=True) as session:
        result = export_project(session, args.output, options,
                                progress=Progress(tr("Exporting")))
    if args.json:
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return 0


def _export_synthesis(args: argparse.Namespace) -> int:
    check_synthesis_target(args.output, args.table)
    lang = args.lang or current_language()
    with open_session(args, read_only=True) as session:
        result = export_synthesis(session, args.output, args.table, lang)
    if args.json:
        print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
    return 0
