"""new, demo, info, dump: creating and looking at a project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cmo_desk.cli.common import add_project_arg, open_session
from cmo_desk.cli.output import print_json
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.templates import load_template
from cmo_desk.services.projects import new_project, project_info


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("new", parents=[parent], help="create an empty project")
    p.add_argument("project", metavar="PROJECT", type=Path)
    p.add_argument("--template", type=Path, help="per-study form template (JSON)")
    p.add_argument("--title", help="the review's title")
    p.add_argument("--no-codebook", action="store_true", help="start without the starter codebook")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("demo", parents=[parent], help="create the illustrative demo project")
    p.add_argument("project", metavar="PROJECT", type=Path)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("info", parents=[parent], help="summarise a project")
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("dump", parents=[parent],
                       help="print the project's content as canonical JSON")
    add_project_arg(p)
    p.set_defaults(func=cmd_dump)


def cmd_new(args: argparse.Namespace) -> int:
    template = load_template(args.template) if args.template else None
    session = new_project(args.project, coder=args.coder, title=args.title, template=template,
                          codebook=not args.no_codebook)
    info = session.store.info()
    session.close()
    print(tr("Created {path}. Codes in the codebook: {n}.").format(path=args.project, n=info["codes"]))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from cmo_desk.services.demo import build_demo

    session = build_demo(args.project)
    info = session.store.info()
    session.close()
    print(tr("Created the demo project {path}. Studies: {studies}; excerpts: {excerpts}; CMOCs: {cmocs}; "
             "coders: {coders}.").format(path=args.project, studies=info["studies"],
                                         excerpts=info["excerpts"], cmocs=info["cmocs"],
                                         coders=", ".join(info["coders"])))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    info = project_info(args.project, getattr(args, "coder", None))
    if args.json:
        print_json(info)
        return 0
    print(f"{info['title'] or args.project.name}  ({info['project_id']})")
    labels = {"studies": tr("Studies"), "documents": tr("Documents"), "excerpts": tr("Excerpts"),
              "cmocs": tr("CMOCs"), "consensus_cmocs": tr("Consensus CMOCs"), "codes": tr("Codes"),
              "theories": tr("Programme theories"), "review_cmocs": tr("Review CMOCs"),
              "theory_versions": tr("Theory versions"), "conflicts": tr("Conflicts")}
    for key, label in labels.items():
        print(f"  {label}: {info[key]}")
    print(f"  {tr('Coders')}: {', '.join(info['coders']) or '-'}")
    return 0


def cmd_dump(args: argparse.Namespace) -> int:
    with open_session(args, read_only=True) as session:
        for piece in session.store.iter_dump_json():
            sys.stdout.write(piece)
    return 0
