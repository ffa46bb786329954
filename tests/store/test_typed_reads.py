"""Reading records gives the record types of domain.records, so a type checker catches a study
taken for a coder before a user meets the error."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = '''
from typing import assert_type
from cmo_desk.domain import records as rec
from cmo_desk.domain.ids import EntityType
from cmo_desk.store.project_store import ProjectStore

def read(store: ProjectStore, kind: EntityType) -> None:
    assert_type(store.list("study"), list[rec.Study])
    assert_type(store.list("excerpt", study_id="s"), list[rec.Excerpt])
    assert_type(store.get("cmoc", "c"), rec.Cmoc | None)
    assert_type(store.get("theory_version", "t", include_deleted=True), rec.TheoryVersion | None)
    store.list(kind)  # a kind known only at run time is still accepted
    coder: rec.Coder = store.list("study")[0]
    store.count("stduy")
'''


def test_records_are_read_as_their_own_types(tmp_path: Path) -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it is part of the test extra)")
    from mypy import api

    probe = tmp_path / "probe.py"
    probe.write_text(SNIPPET, encoding="utf-8")
    out, err, _ = api.run([str(probe), "--strict", "--follow-imports", "silent",
                           "--cache-dir", os.devnull, "--no-error-summary",
                           "--config-file", str(ROOT / "pyproject.toml")])
    errors = [line for line in out.splitlines() if ": error:" in line]
    # exactly two errors: the study assigned to a coder, and a kind of record misspelt
    assert len(errors) == 2, out + err
    assert "probe.py:13:" in errors[0] and "Study" in errors[0] and "Coder" in errors[0]
    assert "probe.py:14:" in errors[1] and "stduy" in errors[1]
