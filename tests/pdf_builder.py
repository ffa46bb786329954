"""Minimal valid PDFs written by hand for the import tests (no PDF library needed to make them)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

# The padding string of the PDF standard security handler (PDF 1.7, 7.6.3.3).
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def build_pdf(
    pages: list[list[str]],
    title: str | None = None,
    user_password: str | None = None,
    image_only_pages: tuple[int, ...] = (),
) -> bytes:
    """A minimal valid PDF: each page's lines drawn in Helvetica. With ``user_password`` the file
    is encrypted with the standard handler (revision 2, 40-bit RC4) so that it needs a password."""
    doc_id = hashlib.md5(repr((pages, title)).encode()).digest()
    permissions = -4
    key = b""
    o_entry = u_entry = b""
    if user_password is not None:
        user = (user_password.encode("latin-1") + _PAD)[:32]
        owner = (b"owner-secret" + _PAD)[:32]
        o_entry = _rc4(hashlib.md5(owner).digest()[:5], user)
        key = hashlib.md5(user + o_entry + struct.pack("<i", permissions) + doc_id).digest()[:5]
        u_entry = _rc4(key, _PAD)

    def encrypt(number: int, data: bytes) -> bytes:
        if not key:
            return data
        object_key = hashlib.md5(key + struct.pack("<i", number)[:3] + b"\x00\x00").digest()[:10]
        return _rc4(object_key, data)

    objects: dict[int, bytes] = {}
    page_count = len(pages)
    font_number = 3
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(page_count))
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode()
    objects[font_number] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    for index, lines in enumerate(pages):
        page_number = first_page + 2 * index
        content_number = page_number + 1
        if index in image_only_pages:
            stream = b"q 100 0 0 100 72 600 cm 0 g 0 0 1 1 re f Q"
        else:
            parts = [b"BT /F1 11 Tf 14 TL 72 760 Td"]
            for line in lines:
                parts.append(b"(" + _escape(line) + b") Tj T*")
            parts.append(b"ET")
            stream = b"\n".join(parts)
        stream = encrypt(content_number, stream)
        objects[page_number] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font_number} 0 R >> >> "
            f"/Contents {content_number} 0 R >>"
        ).encode()
        objects[content_number] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    info_number = first_page + 2 * page_count
    info = b"<< /Producer (cmo-desk tests)"
    if title is not None:
        info += b" /Title <" + encrypt(info_number, title.encode("latin-1")).hex().encode() + b">"
    objects[info_number] = info + b" >>"
    encrypt_number = None
    if key:
        encrypt_number = info_number + 1
        objects[encrypt_number] = (
            b"<< /Filter /Standard /V 1 /R 2 /O <" + o_entry.hex().encode() + b"> /U <" + u_entry.hex().encode()
            + b"> /P %d >>" % permissions
        )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets[number])
    trailer = b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /ID [<%s> <%s>]" % (
        size, info_number, doc_id.hex().encode(), doc_id.hex().encode()
    )
    if encrypt_number:
        trailer += b" /Encrypt %d 0 R" % encrypt_number
    out.write(trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def make_pdf(pages: list[list[str]], user_password: str | None = None,
             image_only: bool = False) -> bytes:
    """Like ``build_pdf``; ``image_only`` draws a black square on every page instead of text."""
    return build_pdf(pages, user_password=user_password,
                     image_only_pages=tuple(range(len(pages))) if image_only else ())


def zero_stream_pdf(mib: int) -> bytes:
    """A one-page PDF whose content stream inflates to ``mib`` MiB of zeros (about 1 KB per MiB)."""
    squeeze = zlib.compressobj(9)
    chunk = b"\x00" * (1 << 20)
    body = b"".join(squeeze.compress(chunk) for _ in range(mib)) + squeeze.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream"]
    return pdf_from_objects(objects)


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """A PDF of the numbered ``objects`` (the first the catalog), with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()
