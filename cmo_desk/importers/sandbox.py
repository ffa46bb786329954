"""Reading untrusted full texts in a child process with memory and time limits.

A crafted PDF can make the PDF engine allocate gigabytes (a 1 GB stream of zeros compresses to a
megabyte) or crash it outright; in the importing process either would take the desk down with the
user's unsaved session. :class:`SafeReader` hands each file to one long-lived child process whose
address space is capped (POSIX) and waits a bounded time for it; a child that runs out of memory,
crashes or takes too long is replaced, and that one file is refused with a clear line while the
others are read as usual.

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
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

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


def _pump(stream: Any, inbox: queue.Queue[Any]) -> None:
    """Parent side: frames from the child's stdout into ``inbox``; None when it closes."""
    try:
        while True:
            header = stream.read(4)
            if len(header) < 4:
                break
            size = struct.unpack(">I", header)[0]
            body = stream.read(size)
            if len(body) < size:
                break
            inbox.put(pickle.loads(body))
    except (OSError, ValueError, EOFError, pickle.UnpicklingError):
        pass
    inbox.put(None)


def _sandbox_available() -> bool:
    if getattr(sys, "frozen", False):
        return False  # a frozen build would start a second desk instead of the reader
    return os.environ.get("CMO_DESK_NO_SANDBOX", "") == ""


class SafeReader:
    """Reads full texts in a child process; use as a context manager around a batch."""

    def __init__(self, memory_limit: int | None = MEMORY_LIMIT_BYTES,
                 time_limit: float = TIME_LIMIT_SECONDS) -> None:
        self.memory_limit = memory_limit if sys.platform != "win32" else None
        self.time_limit = time_limit
        self._process: Any = None
        self._inbox: queue.Queue[Any] = queue.Queue()
        self.isolated = _sandbox_available()

    def __enter__(self) -> SafeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        code = ("import sys; sys.path.insert(0, %r); "
                "from cmo_desk.importers.sandbox import _child_main; _child_main()" % package_root)
        self._process = subprocess.Popen(
            [sys.executable, "-c", code, str(self.memory_limit or 0)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._inbox = queue.Queue()
        threading.Thread(target=_pump, args=(self._process.stdout, self._inbox), daemon=True,
                         name="cmo-desk-reader-pump").start()

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _send(self, request: Any) -> None:
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        self._process.stdin.write(struct.pack(">I", len(data)) + data)
        self._process.stdin.flush()

    def _stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        try:
            if process.poll() is None:
                process.kill()
            process.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def close(self) -> None:
        if self._alive():
            try:
                self._send(None)
                self._process.wait(2)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        self._stop()

    def read(self, path: str | os.PathLike[str], password: str | None = None,
             cancel: Callable[[], bool] | None = None) -> ExtractedText:
        """Like ``extract_file``; the result carries no original bytes (read them again to keep)."""
        if not self.isolated:
            return replace(extract_file(path, password=password, cancel=cancel), original=b"")
        name = Path(path).name
        if not self._alive():
            try:
                self._start()
            except OSError:
                self.isolated = False
                return replace(extract_file(path, password=password, cancel=cancel), original=b"")
        try:
            self._send((str(Path(path).resolve()), password))
        except (OSError, ValueError):
            self._stop()
            raise self._crashed(name) from None
        deadline = time.monotonic() + self.time_limit
        while True:
            if cancel is not None and cancel():
                self._stop()
                raise Cancelled(tr("Import cancelled; nothing was written."))
            try:
                reply = self._inbox.get(timeout=_POLL_SECONDS)
                break
            except queue.Empty:
                pass
            if time.monotonic() > deadline:
                self._stop()
                raise ImportFailed(tr(
                    "{name} took more than {seconds} seconds to read and was stopped; it is not imported. "
                    "The file may be damaged or made to stall readers: save it again from a PDF viewer or "
                    "word processor.").format(name=name, seconds=int(self.time_limit)))
        if reply is None:  # the child died: out of memory, or the reader crashed
            self._stop()
            raise self._crashed(name)
        kind, payload = reply
        if kind == "ok":
            return payload
        if kind == "password":
            raise PasswordRequired(payload)
        if kind == "failed":
            raise ImportFailed(payload)
        self._stop()  # after a MemoryError the child's heap is not to be trusted
        if kind == "memory":
            raise self._crashed(name)
        raise ImportFailed(tr("{name} could not be read ({detail}). Check the file or save it again.").format(
            name=name, detail=payload))

    @staticmethod
    def _crashed(name: str) -> ImportFailed:
        return ImportFailed(tr(
            "{name} made the reader run out of memory or stop; it is not imported. The file may be damaged "
            "or made to exhaust memory: save it again from a PDF viewer or word processor.").format(name=name))
