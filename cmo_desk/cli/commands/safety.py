"""backups, restore, check: keeping a project safe from crashes and damage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cmo_desk.cli.common import add_project_arg
from cmo_desk.cli.output import print_json
from cmo_desk.domain.i18n import fit_columns, text_columns, tr
from cmo_desk.services import backups as backup_service
from cmo_desk.services import recovery


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("backups", parents=[parent], help="list a project's backups")
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--now", action="store_true", help="make a backup now, then list them")
    p.set_defaults(func=cmd_backups)

    p = sub.add_parser("restore", parents=[parent],
                       help="replace a project with one of its backups (the current file is kept "
                            "as a backup too)")
    add_project_arg(p)
    p.add_argument("backup", metavar="BACKUP",
                   help="the backup: its number or name from 'cmo-desk backups', or a path")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("check", parents=[parent],
                       help="check a project for damage (exits 1 when damaged)")
    add_project_arg(p)
    p.add_argument("--quick", action="store_true",
                   help="skip rebuilding the records from the change log")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("salvage", parents=[parent],
                       help="rescue a damaged project: its latest good backup with every change "
                            "still readable in the damaged file, as a new file")
    add_project_arg(p)
    p.add_argument("--backup", metavar="BACKUP",
                   help="the backup to start from (default: the latest good one)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="the file to write (default: NAME.salvaged.cmo beside the project)")
    p.set_defaults(func=cmd_salvage)


def cmd_salvage(args: argparse.Namespace) -> int:
    result = recovery.salvage(args.project, args.backup, args.output)
    print(result.summary())
    return 0


def cmd_backups(args: argparse.Namespace) -> int:
    if args.now:
        made = backup_service.backup_before(args.project, "manual")
        if not args.json:
            print(tr("Backed up to {path}").format(path=made))
    found = backup_service.list_backups(args.project)
    if args.json:
        print_json([b.as_dict() for b in found])
        return 0
    if not found:
        print(tr("No backups of {name} yet. They are made when it is opened for editing, every "
                 "few minutes while it is edited, and before merges.").format(
            name=args.project.name))
        return 0
    reasons = {b.reason: backup_service.reason_title(b.reason) for b in found}
    width = max(text_columns(r) for r in reasons.values())
    for n, b in enumerate(found, 1):  # (the desk's Backups window says the same words)
        size = fit_columns(backup_service.size_text(b.size), 9, ">")
        print(f"{n:>3}  {b.created:%Y-%m-%d %H:%M:%S}  {fit_columns(reasons[b.reason], width)}  "
              f"{size}  {backup_service.contents_text(b)}  {b.path.name}")
    print(tr("Folder: {folder}").format(folder=found[0].path.parent))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    result = backup_service.restore_backup(args.project, args.backup, coder=args.coder)
    print(tr("Restored {project} from {backup}.").format(project=result.project,
                                                         backup=result.restored_from.name))
    if result.previous_kept_as is not None:
        print(tr("The file it replaced was kept as {path}.").format(path=result.previous_kept_as))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    report = recovery.check_project(Path(args.project), projection=not args.quick)
    if args.json:
        print_json({"project": str(report.project), "ok": report.ok, "problems": report.problems,
                    "latest_backup": str(report.latest_backup.path) if report.latest_backup
                    else None})
    elif report.ok:
        print(report.summary())
    else:
        print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1
