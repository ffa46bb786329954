"""A child process's first lines that kill it (SIGKILL, a power cut as the file sees it) after a
budget of SQLite work, counted over every connection it opens."""

from __future__ import annotations

import textwrap


def killed_after(limit_arg: int, steps: int) -> str:
    """Python source: ``sys.argv[limit_arg]`` units of ``steps`` SQLite virtual machine steps,
    then SIGKILL; ``done[0]`` counts the units used so far."""
    return textwrap.dedent(f"""
        import os, signal, sqlite3, sys
        limit, done = int(sys.argv[{limit_arg}]), [0]
        real = sqlite3.connect
        def tick():
            done[0] += 1
            if done[0] >= limit:
                os.kill(os.getpid(), signal.SIGKILL)
            return 0
        def connect(*args, **kwargs):
            con = real(*args, **kwargs)
            con.set_progress_handler(tick, {steps})
            return con
        sqlite3.connect = connect
    """)
