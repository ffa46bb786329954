"""Killing the writer at random moments loses nothing it reported as saved."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmo_desk.services import coding
from cmo_desk.services.session import Session

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

WRITER = """
import sys
from cmo_desk.services import coding
from cmo_desk.services.session import Session
path, cmoc_id, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = Session.open(path, coder="Ana")
assert not s.read_only, s.store.read_only_reason
print("ready", flush=True)
n = start
while True:
    coding.update_cmoc(s, cmoc_id, {"context": f"edit {n}"})
    print(n, flush=True)
    n += 1
"""


def test_sigkill_during_rapid_edits_loses_no_reported_edit(tmp_path: Path) -> None:
    path = tmp_path / "p.cmo"
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Killed 2024"})
        cid, _ = coding.create_cmoc(s, sid, {"context": "start"})
    rng = random.Random(20240520)
    reported: list[int] = []
    start = 0
    for _round in range(4):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), cid, str(start)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first.strip() == "ready", child.stderr.read() if child.stderr else first
        time.sleep(rng.uniform(0.2, 1.0))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        values = [int(line) for line in out.split() if line.strip().isdigit()]
        reported += values
        start = (values[-1] + 1) if values else start
        with Session.open(path, read_only=True) as check:
            assert check.store.integrity_check() == []
            saved = {c.value for c in check.store.changes_for("cmoc", cid)
                     if c.field == "context"}
            assert {f"edit {n}" for n in values} <= saved
    assert len(reported) > 4  # the writer did get edits through
    # the lock each killed writer left behind was cleared, so the project is writable again
    with Session.open(path, coder="Ana") as s:
        assert not s.read_only
        assert s.store.get("cmoc", cid).context == f"edit {reported[-1]}" or \
            int(s.store.get("cmoc", cid).context.split()[1]) >= reported[-1]
