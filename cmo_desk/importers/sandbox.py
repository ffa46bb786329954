"""Reading untrusted full texts in a child process with memory and time limits.

A crafted PDF can make the PDF engine allocate gigabytes (a 1 GB stream of zeros compresses to a
megabyte) or crash it outright; in the importing process either would take the desk down with the
user's unsaved session. :class:`SafeReader` hands each file to a long-lived child process whose
address space is capped (POSIX) and waits a bounded time for it; a child that runs out of memory,
crashes or takes too long is replaced, and that one file is refused with a clear line while the
others are read as usual. Given the whole batch up front, two children read ahead at once on a
two-core machine.

The child is a plain ``python -c`` process speaking length-prefixed pickles over its stdin and
stdout (multiprocessing would re-run the caller's main script). Where it cannot be started (a
frozen build, whose executable is the desk itself, or ``CMO_DESK_NO_SANDBOX`` set), files are
read in the importing process as before.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from cmo_desk.domain.cancel import check_import_cancel
from cmo_desk.domain.errors import Cancelled, CmoDeskError, ImportFailed, PasswordRequired
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.fulltext import ExtractedText, extract_file

#: Address space a reading child may use: far more than any article needs (pdfium on a 500-page
#: scanned report stays under 400 MB), far less than an old laptop has.
MEMORY_LIMIT_BYTES = 1536 * 1024 * 1024
#: Longest a single file may take to read.
TIME_LIMIT_SECONDS = 180.0
_POLL_SECONDS = 0.2


def _child_main() -> None:  # pragma: no cover - runs in the child
    """The reading child: length-prefixed pickled requests on stdin, replies on stdout."""
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a library's print must not corrupt the replies
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if limit:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
        except (ImportError, ValueError, OSError):
            pass
    while True:
        header = requests.read(4)
        if len(header) < 4:
            return
        request = pickle.loads(requests.read(struct.unpack(">I", header)[0]))
        if request is None:
            return
        path, password = request
        try:
            result = extract_file(path, password=password)
            reply: tuple[str, Any] = ("ok", replace(result, original=b""))
        except PasswordRequired as err:
            reply = ("password", str(err))
        except CmoDeskError as err:
            reply = ("failed", str(err))
        except MemoryError:
            reply = ("memory", "")
        except Exception as err:  # noqa: BLE001 - reported to the parent as this file's failure
            reply = ("error", type(err).__name__)
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(struct.pack(">I", len(data)) + data)
        replies.flush()


def _pump(stream: Any, inbox: queue.Queue[Any], child: Any) -> None:
    """Parent side: frames from a child's stdout into ``inbox`` as (child, reply); (child, None)
    when it closes."""
    try:
        while True:
            header = stream.read(4)
            if len(header) < 4:
                break
            size = struct.unpack(">I", header)[0]
            body = stream.read(size)
            if len(body) < size:
                break
            inbox.put((child, pickle.loads(body)))
    except (OSError, ValueError, EOFError, pickle.UnpicklingError):
        pass
    inbox.put((child, None))


def _sandbox_available() -> bool:
    if getattr(sys, "frozen", False):
        return False  # a frozen build would start a second desk instead of the reader
    return os.environ.get("CMO_DESK_NO_SANDBOX", "") == ""


def reading_workers() -> int:
    """How many files are read at once: two where there are two cores (each child keeps its own
    memory limit), else one."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


#: A request: the file's resolved path and its password.
Key = tuple[str, "str | None"]


class _Child:
    """One reading process, and the request it is working on (one at a time)."""

    def __init__(self, memory_limit: int | None, replies: queue.Queue[Any]) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        code = ("import sys; sys.path.insert(0, %r); "
                "from cmo_desk.importers.sandbox import _child_main; _child_main()" % package_root)
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(memory_limit or 0)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.key: Key | None = None
        self.started = 0.0
        threading.Thread(target=_pump, args=(self.process.stdout, replies, self), daemon=True,
                         name="cmo-desk-reader-pump").start()

    def send(self, request: Any) -> None:
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.write(struct.pack(">I", len(data)) + data)
        self.process.stdin.flush()

    def give(self, key: Key) -> None:
        self.key, self.started = key, time.monotonic()
        self.send(key)

    def stop(self) -> None:
        try:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send(None)
                self.process.wait(2)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        self.stop()


class SafeReader:
    """Reads full texts in child processes; use as a context manager around a batch.

    ``plan`` names the files a batch will read, in order: the children then read ahead, two files
    at once on a machine with two cores, while the caller takes each result with ``read``.
    """

    def __init__(self, memory_limit: int | None = MEMORY_LIMIT_BYTES,
                 time_limit: float = TIME_LIMIT_SECONDS, workers: int | None = None) -> None:
        self.memory_limit = memory_limit if sys.platform != "win32" else None
        self.time_limit = time_limit
        self.workers = max(1, workers if workers is not None else reading_workers())
        self.isolated = _sandbox_available()
        self._children: list[_Child] = []
        self._replies: queue.Queue[Any] = queue.Queue()
        #: Planned requests not yet given to a child, in the order they will be read.
        self._waiting: deque[Key] = deque()
        #: Replies not yet taken, by request (a file named twice is read twice).
        self._done: dict[Key, deque[tuple[str, Any]]] = {}
        #: Planned requests not yet taken with ``read``: planning them again reads them once.
        self._expected: Counter[Key] = Counter()

    def __enter__(self) -> SafeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _key(path: str | os.PathLike[str], password: str | None) -> Key:
        return (str(Path(path).resolve()), password)

    def plan(self, requests: Iterable[tuple[str | os.PathLike[str], str | None]]) -> None:
        """The (file, password) pairs ``read`` will be asked for, in that order. Files planned
        before and not read yet are not planned twice."""
        if not self.isolated:
            return
        keys = [self._key(path, password) for path, password in requests]
        wanted = Counter(keys)
        for key in dict.fromkeys(keys):
            extra = wanted[key] - self._expected[key]
            if extra > 0:
                self._waiting.extend([key] * extra)
                self._expected[key] += extra
        self._dispatch()

    def _in_flight(self, key: Key) -> bool:
        return any(child.key == key for child in self._children)

    def _dispatch(self) -> None:
        """Give waiting requests to idle children, starting children up to ``workers``."""
        while self._waiting:
            idle = next((c for c in self._children if c.key is None), None)
            if idle is None:
                if len(self._children) >= self.workers:
                    return
                try:
                    idle = _Child(self.memory_limit, self._replies)
                except OSError:
                    if not self._children:  # no child can be started here: read in-process
                        self.isolated = False
                        self._waiting.clear()
                    return
                self._children.append(idle)
            key = self._waiting.popleft()
            try:
                idle.give(key)
            except (OSError, ValueError):
                self._finish(idle, ("crashed", ""))

    def _finish(self, child: _Child, reply: tuple[str, Any] | None) -> None:
        """Keep what ``child`` answered (None: it died); a child that died, ran out of memory
        or failed unexpectedly is let go (its heap is not to be trusted)."""
        if child not in self._children:
            return  # already let go (stopped for taking too long)
        if child.key is not None:
            self._done.setdefault(child.key, deque()).append(reply or ("crashed", ""))
        child.key = None
        if reply is None or reply[0] not in ("ok", "password", "failed"):
            self._children.remove(child)
            child.stop()

    def _stop_all(self) -> None:
        for child in self._children:
            child.stop()
        self._children.clear()
        self._waiting.clear()
        self._done.clear()
        self._expected.clear()

    def close(self) -> None:
        for child in self._children:
            child.close()
        self._children.clear()
        self._waiting.clear()
        self._done.clear()
        self._expected.clear()

    def read(self, path: str | os.PathLike[str], password: str | None = None,
             cancel: Callable[[], bool] | None = None) -> ExtractedText:
        """Like ``extract_file``; the result carries no original bytes (read them again to keep)."""
        if not self.isolated:
            return replace(extract_file(path, password=password, cancel=cancel), original=b"")
        name = Path(path).name
        key = self._key(path, password)
        if self._expected[key] > 0:
            self._expected[key] -= 1
        if not self._done.get(key) and not self._in_flight(key):
            if key in self._waiting:
                self._waiting.remove(key)
            self._waiting.appendleft(key)  # asked for now: next in line
        self._dispatch()
        if not self.isolated:
            return replace(extract_file(path, password=password, cancel=cancel), original=b"")
        while not self._done.get(key):
            try:
                check_import_cancel(cancel)
            except Cancelled:
                self._stop_all()
                raise
            try:
                child, reply = self._replies.get(timeout=_POLL_SECONDS)
                self._finish(child, reply)
            except queue.Empty:
                pass
            now = time.monotonic()
            for child in list(self._children):
                if child.key is not None and now - child.started > self.time_limit:
                    self._done.setdefault(child.key, deque()).append(("timeout", ""))
                    child.key = None
                    self._children.remove(child)
                    child.stop()
            self._dispatch()
        kind, payload = self._done[key].popleft()
        if kind == "ok":
            return payload  # type: ignore[no-any-return]
        if kind == "password":
            raise PasswordRequired(payload)
        if kind == "failed":
            raise ImportFailed(payload)
        if kind == "timeout":
            raise ImportFailed(tr(
                "{name} took more than {seconds} seconds to read and was stopped; it is not imported. "
                "The file may be damaged or made to stall readers: save it again from a PDF viewer or "
                "word processor.").format(name=name, seconds=int(self.time_limit)))
        if kind in ("memory", "crashed"):
            raise self._crashed(name)
        raise ImportFailed(tr("{name} could not be read ({detail}). Check the file or save it again.").format(
            name=name, detail=payload))

    @staticmethod
    def _crashed(name: str) -> ImportFailed:
        return ImportFailed(tr(
            "{name} made the reader run out of memory or stop; it is not imported. The file may be damaged "
            "or made to exhaust memory: save it again from a PDF viewer or word processor.").format(name=name))
