"""One writer per project: a small JSON lock file beside it, ``<name>.cmo.lock``.

The lock is a plain file created with O_CREAT|O_EXCL, because byte-range locks (fcntl, LockFileEx)
are unreliable or silently ignored on SMB/NFS shares and USB sticks, which is where projects live.
A lock left by a crashed desk is cleared when it is clearly dead:

- same machine, same boot, and its process no longer runs, or a process started at another
  time now has its id (the id was reused after a crash);
- same machine but the machine has rebooted since the lock was written;
- another machine, and its heartbeat is older than ``STALE_AFTER`` (the desk refreshes it every
  minute or so with :func:`heartbeat`).

Opening the same project twice inside one process shares one lock (counted), so a desk that opens a
worker's own store does not lock itself out.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from cmo_desk.domain.i18n import tr

#: A lock from another machine whose heartbeat is older than this is taken to be abandoned.
STALE_AFTER = 10 * 60
#: On this machine, a live process id that has not refreshed for this long is a reused id.
SAME_HOST_STALE_AFTER = 60 * 60
#: An unreadable lock file younger than this is still being written by its owner.
WRITING_GRACE = 30

_held: dict[str, tuple[Lock, int]] = {}
_held_guard = threading.Lock()


@dataclass(frozen=True)
class LockInfo:
    coder: str
    host: str
    pid: int
    started: float
    heartbeat: float
    token: str
    boot: float | None = None
    #: When the holding process started (system-specific units), to tell a reused id; None if
    #: it cannot be told on this system.
    proc_start: float | None = None

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.started).strftime("%Y-%m-%d %H:%M")
        return tr("{coder} on {host} (since {when})").format(
            coder=self.coder or tr("someone"), host=self.host or "?", when=when)


@dataclass
class Lock:
    """This process holds the project's lock; refresh it with :func:`heartbeat`, end with
    :func:`release`."""

    project: Path
    lock_file: Path
    info: LockInfo
    released: bool = False


@dataclass(frozen=True)
class LockedBy:
    """Someone else has the project open for writing."""

    project: Path
    lock_file: Path
    info: LockInfo | None

    def message(self) -> str:
        who = self.info.describe() if self.info else tr("another program")
        return tr("{name} is open for editing by {who}, so it was opened read-only. "
                  "Ask them to close it, then reopen it to make changes. If that desk crashed "
                  "and nobody has the project open, delete the lock file {lock} and reopen "
                  "the project.").format(name=self.project.name, who=who, lock=self.lock_file)


def lock_path_for(project: str | os.PathLike[str]) -> Path:
    p = Path(project)
    return p.with_name(p.name + ".lock")


def _key(project: Path) -> str:
    return os.path.normcase(str(project.resolve()))


def _now() -> float:
    return time.time()


def boot_time() -> float | None:
    """When this machine last started (rounded), or None when it cannot be told."""
    try:
        if sys.platform.startswith("linux"):
            with open("/proc/stat", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("btime"):
                        return float(line.split()[1])
        elif sys.platform == "win32":
            import ctypes

            ticks = ctypes.windll.kernel32.GetTickCount64()  # type: ignore[attr-defined]
            return float(round(time.time() - ticks / 1000.0, -1))
    except (OSError, ValueError, AttributeError):
        return None
    return None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError:
        return False
    return True


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (clock ticks since boot on Linux), or None if unknown."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            raw = fh.read()
        # the command name (field 2) may hold spaces and brackets: count from its last ')'
        return float(raw[raw.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _default_coder() -> str:
    name = os.environ.get("CMO_DESK_CODER")
    if name and name.strip():
        return " ".join(name.split())
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not a reason to refuse to open
        return ""


def _parse(raw: bytes) -> LockInfo | None:
    try:
        data = json.loads(raw.decode("utf-8"))
        return LockInfo(
            coder=str(data.get("coder") or ""), host=str(data.get("host") or ""),
            pid=int(data.get("pid") or 0), started=float(data.get("started") or 0),
            heartbeat=float(data.get("heartbeat") or 0), token=str(data.get("token") or ""),
            boot=float(data["boot"]) if data.get("boot") is not None else None,
            proc_start=(float(data["proc_start"]) if data.get("proc_start") is not None
                        else None))
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        return None


def read_lock(project: str | os.PathLike[str]) -> LockInfo | None:
    """Who holds the project's lock, or None when nobody does (or the file is unreadable)."""
    try:
        return _parse(lock_path_for(project).read_bytes())
    except OSError:
        return None


def is_stale(info: LockInfo | None, lock_file: Path, now: float | None = None) -> bool:
    now = _now() if now is None else now
    if info is None:
        try:
            age = now - lock_file.stat().st_mtime
        except OSError:
            return True
        return age > WRITING_GRACE
    if info.host == socket.gethostname():
        if info.pid == os.getpid():
            return info.token not in {lock.info.token for lock, _ in _held.values()}
        boot = boot_time()
        if boot is not None and info.boot is not None and abs(boot - info.boot) > 60:
            return True
        if not pid_alive(info.pid):
            return True
        if info.proc_start is not None:
            started = process_started(info.pid)
            if started is not None and started != info.proc_start:
                return True  # the crashed desk's id now belongs to another process
        return now - info.heartbeat > SAME_HOST_STALE_AFTER
    return now - info.heartbeat > STALE_AFTER


def _encode(info: LockInfo) -> bytes:
    return json.dumps(asdict(info), indent=1).encode("utf-8")


def _create_exclusive(lock_file: Path, info: LockInfo) -> bool:
    try:
        fd = os.open(lock_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, _encode(info))
        try:
            os.fsync(fd)
        except OSError:
            pass
    finally:
        os.close(fd)
    return True


def _clear_stale(lock_file: Path, seen: LockInfo | None) -> None:
    """Move the stale lock aside, then check it was still the one judged stale.

    Two desks may judge the same lock stale at once; moving it (atomic) rather than deleting means
    the slower one cannot delete the lock the faster one has just created.
    """
    aside = lock_file.with_name(f"{lock_file.name}.stale-{uuid.uuid4().hex[:8]}")
    try:
        os.replace(lock_file, aside)
    except OSError:
        return
    try:
        moved = _parse(aside.read_bytes())
    except OSError:
        moved = None
    same = (moved is None and seen is None) or (
        moved is not None and seen is not None and moved.token == seen.token)
    if not same:
        try:
            os.link(aside, lock_file)  # put a fresh lock back, unless one has appeared meanwhile
        except OSError:
            pass
    try:
        aside.unlink()
    except OSError:
        pass


def acquire(project: str | os.PathLike[str], coder: str | None = None) -> Lock | LockedBy:
    """Take the project's lock for writing, or say who holds it.

    Raises OSError only when the lock file cannot be written at all (read-only folder); callers
    then fall back to opening read-only.
    """
    project = Path(project)
    lock_file = lock_path_for(project)
    key = _key(project)
    with _held_guard:
        if key in _held:
            lock, count = _held[key]
            _held[key] = (lock, count + 1)
            return lock
        now = _now()
        info = LockInfo(coder=coder if coder else _default_coder(), host=socket.gethostname(),
                        pid=os.getpid(), started=now, heartbeat=now, token=uuid.uuid4().hex,
                        boot=boot_time(), proc_start=process_started(os.getpid()))
        for _attempt in range(3):
            if _create_exclusive(lock_file, info):
                lock = Lock(project, lock_file, info)
                _held[key] = (lock, 1)
                return lock
            try:
                seen_raw = lock_file.read_bytes()
            except FileNotFoundError:
                continue
            seen = _parse(seen_raw)
            if not is_stale(seen, lock_file):
                return LockedBy(project, lock_file, seen)
            _clear_stale(lock_file, seen)
        return LockedBy(project, lock_file, read_lock(project))


def heartbeat(lock: Lock) -> bool:
    """Refresh the lock's time. False when the lock is no longer ours (it was cleared as stale by
    another machine): the desk should then stop saving and tell the user."""
    if lock.released:
        return False
    current = read_lock(lock.project)
    if current is None or current.token != lock.info.token:
        return False
    fresh = LockInfo(**{**asdict(lock.info), "heartbeat": _now()})
    tmp = lock.lock_file.with_name(f"{lock.lock_file.name}.{lock.info.token[:8]}.tmp")
    try:
        tmp.write_bytes(_encode(fresh))
        os.replace(tmp, lock.lock_file)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        # A full disk or a share's hiccup: the lock is still ours, only its time is not fresh.
        return True
    lock.info = fresh
    return True


def still_held(lock: Lock) -> bool:
    current = read_lock(lock.project)
    return not lock.released and current is not None and current.token == lock.info.token


def release(lock: Lock) -> None:
    """Give the lock up (counted: the last holder in this process removes the file)."""
    if lock.released:
        return
    key = _key(lock.project)
    with _held_guard:
        held = _held.get(key)
        if held and held[0] is lock and held[1] > 1:
            _held[key] = (lock, held[1] - 1)
            return
        _held.pop(key, None)
        lock.released = True
    current = read_lock(lock.project)
    if current is not None and current.token == lock.info.token:
        try:
            lock.lock_file.unlink()
        except OSError:
            pass


def holders_in_process(project: str | os.PathLike[str]) -> int:
    """How many opens in this process share the project's lock (0 when none)."""
    held = _held.get(_key(Path(project)))
    return held[1] if held else 0
