"""Start-up imports only what the first window needs: the heavy libraries load when used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "numpy", "docx", "openpyxl", "pypdfium2", "rispy", "bibtexparser",
         "krippendorff")

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})))
"""


def _heavy_after(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return [m for m in json.loads(out.stdout.splitlines()[-1]) if "." not in m]


def test_command_line_start_does_not_load_heavy_libraries() -> None:
    assert _heavy_after(
        "from cmo_desk.__main__ import _is_cli\n"
        "from cmo_desk.cli.main import build_parser\n"
        "build_parser(); _is_cli(['info'])") == []


def test_opening_a_project_does_not_load_heavy_libraries(demo_path: Path) -> None:
    assert _heavy_after(
        "from cmo_desk.services.session import Session\n"
        f"s = Session.open({str(demo_path)!r}, coder='Ana')\n"
        "s.store.list('study'); s.store.list('cmoc'); s.close()") == []


def test_desk_module_does_not_load_heavy_libraries() -> None:
    probe = subprocess.run([sys.executable, "-c", "import cmo_desk.ui.app"], capture_output=True,
                           text=True, timeout=120)
    if probe.returncode != 0:
        pytest.skip("the desk is not there yet")
    assert _heavy_after("import cmo_desk.ui.app") == []


def _modules_after_cli(*argv: str, prefixes: tuple[str, ...]) -> list[str]:
    code = ("import sys\n"
            "from cmo_desk.__main__ import main\n"
            "try:\n"
            f"    main({list(argv)!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            f"print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return eval(out.stdout.strip().splitlines()[-1])  # a printed list of names


def test_version_loads_no_database_library() -> None:
    assert _modules_after_cli("--version", prefixes=("sqlalchemy", "alembic", "cmo_desk.cli.commands.",
                                                     "cmo_desk.services")) == []


def test_a_command_loads_only_its_own_module(demo_path: Path) -> None:
    loaded = _modules_after_cli("info", str(demo_path), prefixes=("cmo_desk.cli.commands.",
                                                                  "alembic"))
    assert loaded == ["cmo_desk.cli.commands.project"]
