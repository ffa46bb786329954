"""hub, sync: a PostgreSQL team hub that every laptop syncs with when it has a connection."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cmo_desk.cli.common import add_project_arg, open_session
from cmo_desk.cli.output import Progress, print_json
from cmo_desk.domain.i18n import tr


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("hub", parents=[parent], help="prepare a PostgreSQL team hub")
    hub_sub = p.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    init = hub_sub.add_parser("init", parents=[parent],
                              help="create the hub's tables and register a project")
    init.add_argument("url", metavar="URL", help="postgresql://NAME@SERVER/DATABASE")
    init.add_argument("--project", type=Path, required=True, metavar="PROJECT",
                      help="the project file (*.cmo) to register")
    init.add_argument("--coordinator-role", metavar="ROLE",
                      help="database role of the coordinator")
    init.add_argument("--coordinator", metavar="NAME", help="the coordinator's name as a coder")
    init.set_defaults(func=cmd_hub_init)
    add = hub_sub.add_parser("add-member", parents=[parent],
                             help="let a database role sync a project as a coder")
    add.add_argument("url", metavar="URL")
    add.add_argument("--project", type=Path, required=True, metavar="PROJECT")
    add.add_argument("--role", required=True, metavar="ROLE", help="the person's database role")
    add.add_argument("--member", required=True, metavar="NAME", help="the person's coder name")
    add.add_argument("--coordinator", action="store_true",
                     help="may edit the codebook, assign, resolve and reconcile")
    add.set_defaults(func=cmd_hub_add_member)

    s = sub.add_parser("sync", parents=[parent],
                       help="send your work to the team hub and receive everyone else's")
    add_project_arg(s)
    s.add_argument("url", metavar="URL", nargs="?",
                   help="the hub (remembered in the project, without the password)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_sync)


def _password() -> str | None:
    # PGPASSWORD and ~/.pgpass are read by the database driver itself; nothing is stored.
    return os.environ.get("CMO_DESK_HUB_PASSWORD") or None


def cmd_hub_init(args: argparse.Namespace) -> int:
    from cmo_desk.services.hub import init_hub

    project_id = init_hub(args.url, args.project, _password(), args.coordinator_role,
                          args.coordinator)
    print(tr("The hub is ready; project {id} is registered.").format(id=project_id[:8] + "…"))
    return 0


def cmd_hub_add_member(args: argparse.Namespace) -> int:
    from cmo_desk.services.hub import add_member

    add_member(args.url, args.project, _password(), args.role, args.member, args.coordinator)
    print(tr("{role} can now sync as {name}.").format(role=args.role, name=args.member))
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from cmo_desk.services.hub import sync

    with open_session(args) as session:
        report = sync(session, args.url, _password(), progress=Progress(tr("Syncing")))
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.summary())
    return 0
