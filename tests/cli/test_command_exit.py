"""A command run from the command line leaves its objects out of the last garbage collection
(the process ends faster); whatever it wrote is complete, and a command run in-process (a test,
a script calling main) leaves the collector as it was."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from cmo_desk.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CMO_DESK_CODER": "Ana Lima",
           "CMO_DESK_CONFIG_DIR": str(cwd / "cfg")}
    return subprocess.run([sys.executable, "-m", "cmo_desk", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_what_commands_write_is_complete_when_the_process_ends(tmp_path: Path) -> None:
    project = tmp_path / "demo.cmo"
    assert _cli("demo", project, cwd=tmp_path).returncode == 0
    for name in ("evidence.docx", "project.qdpx"):
        out = _cli("export", project, "-o", tmp_path / name, cwd=tmp_path)
        assert out.returncode == 0, out.stderr[-2000:]
        with zipfile.ZipFile(tmp_path / name) as archive:
            assert archive.testzip() is None and archive.namelist()
    csv = _cli("export", project, "-o", tmp_path / "evidence.csv", cwd=tmp_path)
    assert csv.returncode == 0
    assert (tmp_path / "evidence.csv").read_text(encoding="utf-8-sig").count("\n") > 5
    info = _cli("info", project, "--json", cwd=tmp_path)
    assert info.returncode == 0 and '"studies"' in info.stdout


def test_a_command_run_in_process_leaves_the_collector_as_it_was(tmp_path: Path,
                                                                capsys) -> None:
    before = gc.get_freeze_count()
    assert main(["new", str(tmp_path / "p.cmo"), "--no-codebook"]) == 0
    assert gc.get_freeze_count() == before
