"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded when a project is opened: ``import`` starts its readers first
    from cmo_desk.services.session import Session


def add_project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT", type=Path, help="the project file (*.cmo)")


def open_session(args: argparse.Namespace, read_only: bool = False) -> Session:
    from cmo_desk.services.session import Session

    return Session.open(args.project, coder=getattr(args, "coder", None), read_only=read_only)
