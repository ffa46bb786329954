"""Work done ahead of a write and kept until the write asks for it: one home for the rule that
what is kept is bounded and is dropped when the work that made it ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def kept_ahead(cache: dict[Any, Any], limit: int
               ) -> Iterator[Callable[[Any, Callable[[], tuple[Any, int]]], None]]:
    """A function ``keep(key, make)`` that stores ``make()``'s value under ``key`` in ``cache``
    (``make`` gives the value and its size), unless ``key`` is there already or ``limit`` is
    reached, while the ``with`` block lasts; what it stored is removed when the block ends."""
    mine: list[Any] = []
    held = 0

    def keep(key: Any, make: Callable[[], tuple[Any, int]]) -> None:
        nonlocal held
        if key in cache or held >= limit:
            return
        value, size = make()
        held += size
        cache[key] = value
        mine.append(key)

    try:
        yield keep
    finally:
        for key in mine:
            cache.pop(key, None)
