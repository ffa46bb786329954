"""Long texts stored compressed: a document's extracted text in the log and in its projection.

A packed text is ``PACKED_MARK`` followed by the zlib stream of its UTF-8 bytes; a text shorter
than ``PACK_FROM`` characters stays plain text. Whatever is computed over a text (a change's
content id, a dump) is computed over the text itself, never over its packed bytes. Packed bytes
may come from another coder's file, so unpacking is bounded: a few bytes that would unpack to
more than ``MAX_UNPACKED`` bytes (a zip bomb) are refused as unreadable.

A text can be packed ahead of being written (:func:`packing_ahead`): an import packs each file's
text as it arrives, while the other files are still being read, rather than all of them once the
last is read. Packing ahead gives the very bytes packing when written would give.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cmo_desk.domain.ahead import kept_ahead

#: Texts at least this long (characters) are packed.
PACK_FROM = 1024
#: What a packed text starts with (a text column holds no other bytes).
PACKED_MARK = b"z1"
#: The most bytes one packed text may unpack to.
MAX_UNPACKED = 256 * 1024 * 1024


#: Most bytes of packed texts kept ahead of their writing at once (beyond, texts are packed when
#: written): a folder of long reports must not double what an import holds in memory.
AHEAD_LIMIT = 64 * 1024 * 1024

#: Texts packed ahead (:func:`packing_ahead`) -> their packed bytes.
_ahead: dict[str, bytes] = {}


def pack_text(value: str | None) -> str | bytes | None:
    """A long text as packed bytes, any other text as it is. Lone surrogates survive."""
    if value is None or len(value) < PACK_FROM:
        return value
    if _ahead:
        packed = _ahead.get(value)  # an equal text packs to equal bytes
        if packed is not None:
            return packed
    return _pack(value)


def _pack(value: str) -> bytes:
    return PACKED_MARK + zlib.compress(value.encode("utf-8", "surrogatepass"), 6)


@contextmanager
def packing_ahead(limit: int = AHEAD_LIMIT) -> Iterator[Callable[[str], None]]:
    """A function that packs a text now, so that :func:`pack_text` later gives its bytes at
    once, while the ``with`` block lasts; at most ``limit`` bytes of them are kept (texts given
    beyond are packed when written, as usual)."""
    with kept_ahead(_ahead, limit) as keep:
        def ahead(value: str) -> None:
            if len(value) >= PACK_FROM:
                keep(value, lambda: _sized(_pack(value)))

        yield ahead


def _sized(packed: bytes) -> tuple[bytes, int]:
    return packed, len(packed)


def unpack_text(value: str | bytes | memoryview | None) -> str | None:
    """The text ``pack_text`` was given. Plain text is returned as it is; bytes that are not a
    whole packed text raise ValueError."""
    if value is None or isinstance(value, str):
        return value
    data = bytes(value)
    if not data.startswith(PACKED_MARK):
        raise ValueError("stored bytes are not a packed text")
    unpacker = zlib.decompressobj()
    try:
        raw = unpacker.decompress(data[len(PACKED_MARK):], MAX_UNPACKED + 1)
    except zlib.error as err:
        raise ValueError(f"a packed text is damaged ({err})") from None
    if len(raw) > MAX_UNPACKED or unpacker.unconsumed_tail or not unpacker.eof:
        raise ValueError("a packed text is too long or cut short")
    return raw.decode("utf-8", "surrogatepass")
