"""Helpers for the export and REFI-QDA exchange service tests: the command line run in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.domain.i18n import set_language

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".." / "shared" / "corpus"
QDPX_DIR = CORPUS / "qdpx"
SCHEMAS = REPO / "schemas" / "refi"


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str | os.PathLike[str]) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = run([str(a) for a in args])
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    yield Cli(capsys)
    set_language("en")  # a --lang zh_CN run must not leak into the next test
