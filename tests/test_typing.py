"""The typed core: mypy (configured in pyproject.toml) finds nothing in domain/, agreement/ and
store/ and services/."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_error_in_the_typed_core() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it is part of the test extra)")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", os.devnull],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {"cmo_desk/domain", "cmo_desk/agreement", "cmo_desk/store", "cmo_desk/services"} <= set(_configured_files())


def _configured_files() -> list[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    files: list[str] = config["tool"]["mypy"]["files"]
    return files


def test_entity_type_names_every_kind_of_record() -> None:
    from cmo_desk.domain.ids import EntityType
    from cmo_desk.domain.schema import ENTITIES

    assert sorted(get_args(EntityType)) == sorted(ENTITIES)


def test_a_name_read_from_data_is_checked_once_against_the_kinds_of_record() -> None:
    from cmo_desk.domain.errors import ValidationError
    from cmo_desk.domain.ids import as_entity_type, is_entity_type
    from cmo_desk.domain.schema import ENTITIES

    for name in ENTITIES:
        assert is_entity_type(name)
        assert as_entity_type(name) == name
    # near misses a conflict row or a hand-edited file could carry
    for name in ("", "CMOC", "cmoc ", "cmocs", "excerpt-code", "exists", "cömoc", "📄"):
        assert not is_entity_type(name)
        with pytest.raises(ValidationError) as err:
            as_entity_type(name)
        assert str(err.value) == f"Unknown record type '{name}'."
