"""The reading child of ``sandbox``: the process that reads one untrusted full text at a time.

It loads only what reading needs (no threads, no process management: the parent's side of the
sandbox is ``sandbox``), so that each child starts a little sooner. Requests and replies are
length-prefixed pickles on its stdin and stdout.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cmo_desk.domain.errors import CmoDeskError, PasswordRequired
from cmo_desk.domain.i18n import set_language

if TYPE_CHECKING:  # the readers load in the child (or on a fallback): the child starts sooner
    from cmo_desk.importers.fulltext import ExtractedText

#: How much longer than the time limit a child whose parent is gone reads a file before it ends.
ORPHAN_GRACE_SECONDS = 5


def reader_child_main(argv: list[str] | None = None) -> None:  # pragma: no cover - in the child
    """The reading child: length-prefixed pickled requests on stdin, replies on stdout.
    ``argv``: memory limit, language, time limit (default: the process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a library's print must not corrupt the replies
    limit = int(args[0]) if args else 0
    set_language(args[1] if len(args) > 1 else None)  # its messages in the user's language
    # The parent stops a file that takes too long; should the parent be gone (killed, crashed),
    # the child ends itself a little later rather than spin on that file for ever.
    alarm = getattr(signal, "alarm", None)
    seconds = int(float(args[2])) + ORPHAN_GRACE_SECONDS if len(args) > 2 and alarm else 0
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
        if seconds:
            alarm(seconds)  # SIGALRM, unhandled, ends the process even inside the PDF engine
        try:
            result = extract_here(path, password)
            reply: tuple[str, Any] = ("ok", result)
        except PasswordRequired as err:
            reply = ("password", str(err))
        except CmoDeskError as err:
            reply = ("failed", str(err))
        except MemoryError:
            reply = ("memory", "")
        except Exception as err:  # noqa: BLE001 - reported to the parent as this file's failure
            reply = ("error", type(err).__name__)
        if seconds:
            alarm(0)
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(struct.pack(">I", len(data)) + data)
        replies.flush()


def extract_here(path: str | os.PathLike[str], password: str | None,
                 cancel: Callable[[], bool] | None = None) -> ExtractedText:
    """``extract_file`` in this process, without the original bytes (they are read again to keep)."""
    from cmo_desk.importers.fulltext import extract_file

    return replace(extract_file(path, password=password, cancel=cancel), original=b"")
