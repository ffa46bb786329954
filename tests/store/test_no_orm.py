"""The store declares its tables with SQLAlchemy Core alone: loading the store and the services a
command uses, and working on a project (create, write, read back), never imports
``sqlalchemy.orm``. Importing it and mapping the tables as classes cost every command that opens
a project about 0.15 s (measured: ``import cmo_desk.store.project_store`` 0.50 s -> 0.39 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
{body}
print(sorted(m for m in sys.modules if m == "sqlalchemy.orm" or m.startswith("sqlalchemy.orm.")))
"""


def _orm_modules_after(body: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return eval(out.stdout.strip().splitlines()[-1])  # a printed list of names


def test_loading_the_store_and_the_import_services_does_not_load_the_orm() -> None:
    assert _orm_modules_after(
        "import cmo_desk.store.project_store, cmo_desk.services.importing") == []


def test_working_on_a_project_does_not_load_the_orm(tmp_path: Path) -> None:
    path = tmp_path / "p.cmo"
    assert _orm_modules_after(
        "from cmo_desk.services import coding\n"
        "from cmo_desk.services.projects import new_project\n"
        "from cmo_desk.services.session import Session\n"
        f"new_project({str(path)!r}, coder='Ana').close()\n"
        f"s = Session.open({str(path)!r}, coder='Ana')\n"
        "sid, _ = coding.add_study(s, {'label': 'Rhodes 2019', 'title': 'Harm reduction'})\n"
        "assert [x.label for x in s.store.list('study')] == ['Rhodes 2019']\n"
        "s.close()\n") == []


def test_the_probe_sees_the_orm_when_it_is_loaded() -> None:
    """The check above can fail: importing the ORM is seen."""
    assert _orm_modules_after("import sqlalchemy.orm")[:1] == ["sqlalchemy.orm"]
