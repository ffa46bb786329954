"""One writer at a time: a second desk gets the project read-only and is told who has it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmo_desk.domain.errors import ReadOnlyError
from cmo_desk.services import coding, recovery
from cmo_desk.services.session import Session
from cmo_desk.store import locking

SECOND_DESK = """
import sys
from cmo_desk.services import coding
from cmo_desk.services.session import Session
s = Session.open(sys.argv[1], coder="Ben")
print(s.read_only)
print(s.store.read_only_reason)
try:
    coding.add_study(s, {"label": "from the second desk"})
    print("saved")
except Exception as err:
    print(type(err).__name__)
s.close()
"""


def _second_desk(path: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-c", SECOND_DESK, str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def _write_lock(path: Path, **fields: object) -> None:
    now = time.time()
    data = {"coder": "Ana", "host": socket.gethostname(), "pid": os.getpid(), "started": now,
            "heartbeat": now, "token": "t" * 32, "boot": locking.boot_time()}
    data.update(fields)
    locking.lock_path_for(path).write_text(json.dumps(data))


def test_second_process_gets_read_only_and_is_told_who(demo_path: Path) -> None:
    with Session.open(demo_path, coder="Ana") as first:
        assert not first.read_only
        lines = _second_desk(demo_path)
        assert lines[0] == "True"
        assert "open for editing by" in lines[1] and socket.gethostname() in lines[1]
        assert lines[2] == "ReadOnlyError"
        assert recovery.lock_holder(demo_path) is not None
    assert not locking.lock_path_for(demo_path).exists()
    assert _second_desk(demo_path)[0] == "False"  # once closed, the next desk may write


def test_lock_of_a_dead_process_on_this_machine_is_cleared(demo_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    _write_lock(demo_path, pid=int(dead))
    with Session.open(demo_path, coder="Ana") as s:
        assert not s.read_only
        coding.add_study(s, {"label": "after a crash"})
        assert locking.read_lock(demo_path).pid == os.getpid()


def test_lock_from_a_machine_that_has_rebooted_is_cleared(demo_path: Path) -> None:
    if locking.boot_time() is None:
        pytest.skip("boot time unknown on this system")
    _write_lock(demo_path, pid=1, boot=locking.boot_time() - 3600)
    with Session.open(demo_path) as s:
        assert not s.read_only


def test_fresh_lock_from_another_machine_is_respected(demo_path: Path) -> None:
    _write_lock(demo_path, host="other-laptop", pid=4242, coder="Sam Okafor")
    with Session.open(demo_path, coder="Ana") as s:
        assert s.read_only
        assert "Sam Okafor on other-laptop" in s.store.read_only_reason
        with pytest.raises(ReadOnlyError, match="Sam Okafor"):
            coding.add_study(s, {"label": "x"})
    assert locking.read_lock(demo_path).coder == "Sam Okafor"  # not ours to remove


def test_abandoned_lock_from_another_machine_is_cleared(demo_path: Path) -> None:
    old = time.time() - locking.STALE_AFTER - 60
    _write_lock(demo_path, host="other-laptop", pid=4242, started=old, heartbeat=old)
    with Session.open(demo_path, coder="Ana") as s:
        assert not s.read_only


def test_heartbeat_keeps_lock_fresh_and_notices_when_lost(demo_path: Path) -> None:
    with Session.open(demo_path, coder="Ana") as s:
        before = locking.read_lock(demo_path).heartbeat
        time.sleep(0.01)
        assert recovery.refresh_lock(s)
        assert locking.read_lock(demo_path).heartbeat > before
        # another laptop judged it abandoned and took over
        _write_lock(demo_path, host="other-laptop", token="x" * 32)
        assert not recovery.refresh_lock(s)
    assert locking.read_lock(demo_path).host == "other-laptop"  # their lock survives our close


def test_half_written_lock_is_respected_briefly(demo_path: Path) -> None:
    locking.lock_path_for(demo_path).write_text("{")
    with Session.open(demo_path) as s:
        assert s.read_only
    old = time.time() - locking.WRITING_GRACE - 5
    os.utime(locking.lock_path_for(demo_path), (old, old))
    with Session.open(demo_path) as s:
        assert not s.read_only


def test_opens_in_one_process_share_the_lock(demo_path: Path) -> None:
    a = Session.open(demo_path, coder="Ana")
    b = Session.open(demo_path, coder="Ana")
    assert not a.read_only and not b.read_only
    a.close()
    assert locking.lock_path_for(demo_path).exists()  # b still has it open
    coding.add_study(b, {"label": "still writable"})
    b.close()
    assert not locking.lock_path_for(demo_path).exists()


def test_read_only_open_takes_no_lock(demo_path: Path) -> None:
    with Session.open(demo_path, read_only=True):
        assert not locking.lock_path_for(demo_path).exists()


def test_cli_write_respects_another_desks_lock(demo_path: Path) -> None:
    from cmo_desk.services.backups import backup_before

    backup_before(demo_path, "manual")
    before = demo_path.read_bytes()
    _write_lock(demo_path, host="other-laptop", pid=4242, coder="Sam Okafor")
    out = subprocess.run([sys.executable, "-m", "cmo_desk", "restore", str(demo_path), "1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "Sam Okafor" in out.stderr and "Traceback" not in out.stderr
    assert demo_path.read_bytes() == before


def test_lock_of_a_crashed_desk_whose_id_was_reused_is_cleared(demo_path: Path) -> None:
    # a live process (this one's parent) now has the id the crashed desk had; it started at
    # another time than the lock says
    if locking.process_started(os.getppid()) is None:
        pytest.skip("process start times unknown on this system")
    _write_lock(demo_path, pid=os.getppid(), token="c" * 32, proc_start=1.0)
    with Session.open(demo_path, coder="Ana") as s:
        assert not s.read_only, s.store.read_only_reason
        assert locking.read_lock(demo_path).pid == os.getpid()


def test_lock_of_a_live_desk_is_kept_and_the_message_says_how_to_clear_it(
        demo_path: Path) -> None:
    started = locking.process_started(os.getppid())
    _write_lock(demo_path, pid=os.getppid(), token="d" * 32, proc_start=started, coder="Ben")
    with Session.open(demo_path, coder="Ana") as s:
        assert s.read_only
        reason = s.store.read_only_reason or ""
        assert "Ben" in reason
        assert str(locking.lock_path_for(demo_path)) in reason and "delete" in reason
