"""The layer rules hold: import contracts run as part of the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the test extra"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_models_match_entity_registry() -> None:
    from cmo_desk.domain.schema import ENTITIES
    from cmo_desk.store.models import ENTITY_TABLES

    assert set(ENTITY_TABLES) == set(ENTITIES)
    for name, spec in ENTITIES.items():
        columns = set(ENTITY_TABLES[name].columns.keys())
        assert columns == {"id", "deleted", *spec.field_names}, name
