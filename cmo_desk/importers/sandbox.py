"""Reading untrusted full texts in child processes with memory and time limits.

A crafted PDF can make the PDF engine allocate gigabytes (a 1 GB stream of zeros compresses to a
megabyte) or crash it outright; in the importing process either would take the desk down with the
user's unsaved session. :class:`SafeReader` hands each file to one long-lived child process whose
address space is capped (POSIX) and waits a bounded time for it; a child that runs out of memory,
crashes or takes too long is replaced, and that one file is refused with a clear line while the
others are read as usual. :class:`ReaderPool` runs a few such children at once (one per core, two
at most) that share the memory limit, and reads files ahead of the caller.

The child (``reader_child``) is a plain ``python -c`` process speaking length-prefixed pickles over
its stdin and stdout (multiprocessing would re-run the caller's main script); in the built program, whose
executable is the desk itself, it is that program started with ``READER_ARGUMENT``. Where no
child can be started (or ``CMO_DESK_NO_SANDBOX`` is set), files are read in the importing
process.
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
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmo_desk import READER_ARGUMENT
from cmo_desk.domain.cancel import check_import_cancel
from cmo_desk.domain.errors import Cancelled, ImportFailed, PasswordRequired
from cmo_desk.domain.i18n import current_language, tr
from cmo_desk.importers.reader_child import extract_here

if TYPE_CHECKING:  # the readers load in the child (or on a fallback): the child starts sooner
    from cmo_desk.importers.fulltext import ExtractedText

#: Address space a reading child may use: far more than any article needs (pdfium on a 500-page
#: scanned report stays under 400 MB), far less than an old laptop has.
MEMORY_LIMIT_BYTES = 1536 * 1024 * 1024
#: Longest a single file may take to read.
TIME_LIMIT_SECONDS = 180.0
_POLL_SECONDS = 0.2
#: How long the first child may take over its first file before a second one starts anyway.
_FIRST_FILE_PATIENCE_SECONDS = 1.0


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


class ReaderStopped(ImportFailed):
    """The reading child ran out of memory or stopped while reading a file."""


def _raiser(error: BaseException) -> Callable[[], ExtractedText]:
    def fail() -> ExtractedText:
        raise error

    return fail


def _sandbox_available() -> bool:
    return os.environ.get("CMO_DESK_NO_SANDBOX", "") == ""


def _child_command(*params: str) -> list[str]:
    """How to start a reading child: the built program with READER_ARGUMENT (its executable is
    the desk itself), else this Python with the package on its path."""
    if getattr(sys, "frozen", False):
        return [sys.executable, READER_ARGUMENT, *params]
    package_root = str(Path(__file__).resolve().parents[2])
    code = ("import sys; sys.path.insert(0, %r); "
            "from cmo_desk.importers.reader_child import reader_child_main; reader_child_main()"
            % package_root)
    return [sys.executable, "-c", code, *params]


class SafeReader:
    """Reads full texts in a child process; use as a context manager around a batch."""

    def __init__(self, memory_limit: int | None = MEMORY_LIMIT_BYTES,
                 time_limit: float = TIME_LIMIT_SECONDS) -> None:
        self.memory_limit = memory_limit if sys.platform != "win32" else None
        self.time_limit = time_limit
        self._process: Any = None
        self._inbox: queue.Queue[Any] = queue.Queue()
        self.isolated = _sandbox_available()
        #: Files handed to the child and not answered yet, oldest first: (name, when handed).
        self._sent: deque[tuple[str, float]] = deque()
        #: When the child last answered (or started): it has read the oldest file since then.
        self._answered_at = 0.0

    def __enter__(self) -> SafeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the child now rather than on the first read (it loads while the caller works)."""
        if self.isolated and not self._alive():
            try:
                self._start()
            except OSError:
                self.isolated = False

    def _start(self) -> None:
        self._process = subprocess.Popen(
            _child_command(str(self.memory_limit or 0), current_language(), str(self.time_limit)),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._inbox = queue.Queue()
        self._sent.clear()
        self._answered_at = time.monotonic()
        threading.Thread(target=_pump, args=(self._process.stdout, self._inbox), daemon=True,
                         name="cmo-desk-reader-pump").start()

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _send(self, request: Any) -> None:
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        self._process.stdin.write(struct.pack(">I", len(data)) + data)
        self._process.stdin.flush()

    def _stop(self) -> None:
        self._sent.clear()  # whatever the child was handed is abandoned with it
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
            return extract_here(path, password, cancel)
        if not self._alive():
            try:
                self._start()
            except OSError:
                self.isolated = False
                return extract_here(path, password, cancel)
        self.send(path, password)
        return self.receive(cancel)

    @property
    def pending(self) -> int:
        """How many files the child has been handed and not answered."""
        return len(self._sent)

    def send(self, path: str | os.PathLike[str], password: str | None = None) -> None:
        """Hand the child a file to read once it has answered for those handed before (a child
        that always has its next file reads without waiting for this process between files).
        Raises ReaderStopped when the child cannot take it (a child that stopped with files
        handed to it is not replaced before they are received), OSError when none can be
        started."""
        name = Path(path).name
        if not self._alive():
            if self._sent:  # it stopped on a file handed before: :meth:`receive` says which
                raise self._crashed(name)
            self._start()
        try:
            self._send((str(Path(path).resolve()), password))
        except (OSError, ValueError):
            if not self._sent:
                self._stop()
            raise self._crashed(name) from None
        self._sent.append((name, time.monotonic()))

    def receive(self, cancel: Callable[[], bool] | None = None) -> ExtractedText:
        """The text of the oldest file handed over, or its failure, as :meth:`read` gives them.
        Its time limit runs from when the child came to it. A failure that stops the child (a
        hang, a crash, memory, a cancel) abandons the files handed after it: :attr:`pending` is
        then 0, and they are to be handed over again."""
        name, handed_at = self._sent[0]
        deadline = max(handed_at, self._answered_at) + self.time_limit
        while True:
            try:
                check_import_cancel(cancel)
            except Cancelled:
                self._stop()
                raise
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
        self._sent.popleft()
        self._answered_at = time.monotonic()
        kind, payload = reply
        if kind == "ok":
            return payload  # type: ignore[no-any-return]
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
        return ReaderStopped(tr(
            "{name} made the reader run out of memory or stop; it is not imported. The file may be damaged "
            "or made to exhaust memory: save it again from a PDF viewer or word processor.").format(name=name))


#: Most reading children at once: enough to read on two cores while the project loads; more
#: would only take memory from an old laptop.
MAX_READERS = 2


def reader_count() -> int:
    """How many children read at once here: one per core, at most :data:`MAX_READERS`."""
    return max(1, min(MAX_READERS, os.cpu_count() or 1))


class _Job:
    """One file handed to the pool, and what became of it."""

    __slots__ = ("path", "password", "done", "result", "error", "alone")

    def __init__(self, path: str, password: str | None) -> None:
        self.path, self.password = path, password
        self.done = threading.Event()
        self.result: ExtractedText | None = None
        self.error: BaseException | None = None
        #: Stopped in a child with a share of the memory limit: read again alone, with all of it.
        self.alone = False


class ReaderPool:
    """Reads full texts in a few long-lived children at once; use as a context manager.

    :meth:`prefetch` hands files over to be read ahead (the command line does so before it loads
    the project); :meth:`read` returns one file's text, or raises its failure, as
    :meth:`SafeReader.read` does. Each child is a :class:`SafeReader` with the same time limit and
    a share of the memory limit, so the children together never take more than one
    :class:`SafeReader` may: a file that runs out of memory (or stops the child) in its share is
    read again alone, with the whole limit, once the other children have stopped. A crash, a hang
    or a memory blow-up fails only that file, with its own message; its child is replaced.
    """

    def __init__(self, size: int | None = None, memory_limit: int | None = None,
                 time_limit: float | None = None) -> None:
        self.size = max(1, size if size is not None else reader_count())
        memory_limit = MEMORY_LIMIT_BYTES if memory_limit is None else memory_limit
        self.memory_limit = memory_limit if sys.platform != "win32" else None
        self.time_limit = TIME_LIMIT_SECONDS if time_limit is None else time_limit
        self.isolated = _sandbox_available()
        self._share = self.memory_limit // self.size if self.memory_limit else None
        self._cond = threading.Condition()
        self._queue: deque[_Job] = deque()  # waiting to be read, in order
        self._jobs: dict[tuple[str, str | None], _Job] = {}
        self._stopping = threading.Event()
        self._paused = False
        self._parked = 0
        self._threads: list[threading.Thread] = []
        #: When the first child started, and when each file was done since (monotonic seconds).
        self._started_at = 0.0
        self._done_at: list[float] = []

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the first child now: it loads the readers, then reads, while the caller goes on.
        The others start only while the caller waits for a file (until then they would take the
        processor from the caller's own work), and only when what is left to read would take
        longer than starting a child does (:meth:`_more_children`)."""
        if not self._threads:
            self._started_at = time.monotonic()
            self._add_child()

    def _more_children(self) -> None:
        """Start another child when the files still queued would take the first one longer than
        a child takes to start and read its first file: the time both are measured in is this
        machine's, however busy it is."""
        if len(self._threads) >= self.size or not self._queue:
            return
        with self._cond:
            done = list(self._done_at)
            queued = len(self._queue)
        since_start = time.monotonic() - self._started_at
        if not done:  # the first file is not read yet: a large one, or a busy machine
            if since_start > _FIRST_FILE_PATIENCE_SECONDS:
                self._add_child()
            return
        first = done[0] - self._started_at  # starting the child, then reading one file
        per_file = (done[-1] - done[0]) / (len(done) - 1) if len(done) > 1 else first
        if queued * per_file > first:
            self._add_child()

    def _add_child(self) -> None:
        if not self.isolated or self._stopping.is_set() or len(self._threads) >= self.size:
            return
        thread = threading.Thread(target=self._work, daemon=True,
                                  name=f"cmo-desk-reader-{len(self._threads) + 1}")
        self._threads.append(thread)
        thread.start()

    def prefetch(self, files: Iterable[tuple[str | os.PathLike[str], str | None]]) -> None:
        """Read these (path, password) files ahead, in order, to be collected with :meth:`read`."""
        if not self.isolated:
            return
        self.start()
        with self._cond:
            for path, password in files:
                key = (str(Path(path).resolve()), password)
                if key not in self._jobs:
                    self._jobs[key] = job = _Job(*key)
                    self._queue.append(job)
            self._cond.notify_all()

    def read(self, path: str | os.PathLike[str], password: str | None = None,
             cancel: Callable[[], bool] | None = None) -> ExtractedText:
        """Like :meth:`SafeReader.read`: the file's text (without its original bytes) or its failure."""
        if not self.isolated:
            return extract_here(path, password, cancel)
        key = (str(Path(path).resolve()), password)
        if key not in self._jobs:
            self.prefetch([(path, password)])
        job = self._jobs[key]
        try:
            while not job.done.is_set():
                self._more_children()  # the caller waits: more children may read what is left
                if job.done.wait(_POLL_SECONDS):
                    break
                check_import_cancel(cancel)
                if not any(t.is_alive() for t in self._threads):  # pragma: no cover - a bug, not a file
                    raise ImportFailed(tr("{name} could not be read ({detail}). Check the file or save it "
                                          "again.").format(name=Path(path).name, detail="no reader"))
        except Cancelled:
            self.close(wait=True)  # the user is told nothing more happens: the children are gone
            raise
        del self._jobs[key]  # its text goes to the caller; the pool keeps nothing it has handed over
        if job.alone:
            return self._read_alone(job, cancel)
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _read_alone(self, job: _Job, cancel: Callable[[], bool] | None) -> ExtractedText:
        """Read ``job`` again in one child with the whole memory limit, the others stopped."""
        with self._cond:
            self._paused = True
            self._cond.notify_all()
        try:
            while True:
                with self._cond:
                    if self._parked >= sum(t.is_alive() for t in self._threads):
                        break
                    self._cond.wait(_POLL_SECONDS)
                try:
                    check_import_cancel(cancel)
                except Cancelled:
                    self.close(wait=True)
                    raise
            with SafeReader(memory_limit=self.memory_limit, time_limit=self.time_limit) as reader:
                try:
                    return reader.read(job.path, password=job.password, cancel=cancel)
                except Cancelled:
                    self.close(wait=True)
                    raise
        finally:
            with self._cond:
                self._paused = False
                self._cond.notify_all()

    def _next(self, reader: SafeReader) -> _Job | None:
        """The next file for a child to read, None when the pool closes. While the pool is paused
        the child is stopped, so that a file read alone has the memory to itself."""
        with self._cond:
            while True:
                if self._stopping.is_set():
                    return None
                if not self._paused and self._queue:
                    return self._queue.popleft()
                if self._paused:
                    break
                self._cond.wait()
        reader.close()
        with self._cond:
            self._parked += 1
            self._cond.notify_all()
            while self._paused and not self._stopping.is_set():
                self._cond.wait()
            self._parked -= 1
        return self._next(reader)

    def _work(self) -> None:
        """Feed one child: the file it reads and the next one, handed over at once, so that the
        child goes on to it without waiting for this process (busy loading the project, say)."""
        reader = SafeReader(memory_limit=self._share, time_limit=self.time_limit)
        reader.start()
        job: _Job | None = None
        try:
            while True:
                if job is None:
                    job = self._next(reader)
                    if job is None:
                        return
                    if not reader.isolated:  # no child could be started: read here
                        if not self._settle(job, lambda j=job: reader.read(
                                j.path, password=j.password, cancel=self._stopping.is_set)):
                            return
                        job = None
                        continue
                    try:
                        reader.send(job.path, job.password)
                    except OSError:
                        reader.isolated = False  # read here, as SafeReader.read does
                        self._requeue(job)
                        job = None
                        continue
                    except ReaderStopped as err:
                        self._settle(job, _raiser(err))
                        job = None
                        continue
                following = self._take_ahead(reader)
                if not self._settle(job, lambda: reader.receive(cancel=self._stopping.is_set)):
                    return
                job = None
                if following is not None:
                    if reader.pending:  # the child read on: it has its next file already
                        job = following
                    else:  # the child was stopped with it: it is read afresh
                        self._requeue(following)
        finally:
            reader.close()

    def _take_ahead(self, reader: SafeReader) -> _Job | None:
        """The next waiting file, handed to ``reader``'s child behind the one it reads; None when
        fewer files wait than the pool may have children (the last ones go to whichever child is
        free first, not behind a file that may take long) or the pool pauses or closes."""
        with self._cond:
            if self._stopping.is_set() or self._paused or len(self._queue) < self.size:
                return None
            job = self._queue.popleft()
        try:
            reader.send(job.path, job.password)
        except (OSError, ReaderStopped):  # the child is gone: the file is read afresh
            self._requeue(job)
            return None
        return job

    def _requeue(self, job: _Job) -> None:
        """Put a file handed to a child that stopped before reaching it back first in line."""
        with self._cond:
            if not self._stopping.is_set():
                self._queue.appendleft(job)
                self._cond.notify_all()

    def _settle(self, job: _Job, read: Callable[[], ExtractedText]) -> bool:
        """Read one file and keep its text or failure for :meth:`read`; False once the pool is
        closing."""
        try:
            job.result = read()
        except Cancelled as err:  # the pool is closing
            job.error = err
            return False
        except ReaderStopped as err:
            job.error = err
            job.alone = self.size > 1 and bool(self.memory_limit)
        except BaseException as err:  # noqa: BLE001 - the reader for that file raises it
            job.error = err
        finally:
            with self._cond:
                self._done_at.append(time.monotonic())
            job.done.set()
        return True

    def close(self, wait: bool = False) -> None:
        """Stop the children: any file still being read is abandoned. They end on the pool's own
        threads (the caller goes on to write what was read); ``wait`` waits until they have."""
        self._stopping.set()
        with self._cond:
            self._queue.clear()
            self._cond.notify_all()
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join(5)
