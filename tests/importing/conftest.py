"""Small files made for the import tests: PDFs written by hand, DOCX via python-docx, references."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"

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


def make_pdf(pages: list[list[str]], user_password: str | None = None,
             image_only: bool = False) -> bytes:
    """A PDF whose pages show the given lines in Helvetica (ASCII text). ``image_only`` draws a
    black square instead of text, like a scan; ``user_password`` encrypts it (RC4, 40-bit)."""
    doc_id = hashlib.md5(repr(pages).encode()).digest()
    key = b""
    encrypt_entry = b""
    if user_password is not None:
        user = (user_password.encode("latin-1") + _PAD)[:32]
        owner_entry = _rc4(hashlib.md5((b"owner" + _PAD)[:32]).digest()[:5], user)
        key = hashlib.md5(user + owner_entry + struct.pack("<i", -4) + doc_id).digest()[:5]
        encrypt_entry = (b" /Encrypt << /Filter /Standard /V 1 /R 2 /O <" + owner_entry.hex().encode()
                         + b"> /U <" + _rc4(key, _PAD).hex().encode() + b"> /P -4 >>")

    def encrypt(number: int, data: bytes) -> bytes:
        if not key:
            return data
        return _rc4(hashlib.md5(key + struct.pack("<i", number)[:3] + b"\0\0").digest()[:10], data)

    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    kids = []
    for index, lines in enumerate(pages):
        page_number, content_number = 4 + 2 * index, 5 + 2 * index
        kids.append(f"{page_number} 0 R")
        if image_only:
            stream = b"q 300 0 0 300 100 400 cm 0 g 0 0 1 1 re f Q"
        else:
            body = b" T* ".join(
                b"(" + line.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(")
                .replace(b")", b"\\)") + b") Tj" for line in lines)
            stream = b"BT /F1 11 Tf 14 TL 72 760 Td " + body + b" ET"
        stream = encrypt(content_number, stream)
        objects[page_number] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R"
            f" >> >> /Contents {content_number} 0 R >>").encode()
        objects[content_number] = (f"<< /Length {len(stream)} >>\nstream\n".encode() + stream
                                   + b"\nendstream")
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {size} /Root 1 0 R".encode() + encrypt_entry
            + b" /ID [<" + doc_id.hex().encode() + b"> <" + doc_id.hex().encode() + b">] >>\n"
            + f"startxref\n{xref}\n%%EOF\n".encode())
    return bytes(out)


def make_docx(path: Path, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


TITLE_B = "Peer navigation for women who use drugs: a realist evaluation of HIV care"

RIS = """TY  - JOUR
AU  - Okafor, Ada
PY  - 2018
TI  - Peer outreach and syringe programme uptake in three port cities
JO  - Harm Reduction Journal
DO  - 10.1234/peer.2018.1
ER  - 

TY  - JOUR
AU  - Nguyen, Binh
PY  - 2019
TI  - {title_b}
JO  - AIDS Care
ER  - 

TY  - JOUR
AU  - Silva, Carla
PY  - 2020
TI  - Naloxone distribution by people with lived experience
JO  - Addiction
DO  - 10.1234/nal.2020.3
ER  - 
""".replace("{title_b}", TITLE_B)

# One record overlaps the RIS file (same DOI, written differently), one is new.
BIB = r"""@article{okafor2018,
  author = {Okafor, Ada},
  title = {Peer Outreach and Syringe Programme Uptake in Three Port Cities},
  journal = {Harm Reduction Journal},
  year = {2018},
  doi = {https://doi.org/10.1234/PEER.2018.1}
}

@article{durand2021,
  author = {Durand, {\'E}mile},
  title = {Paid peer workers and role strain in opioid treatment services},
  journal = {Int J Drug Policy},
  year = {2021},
  doi = {10.1234/role.2021.4}
}
"""


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A folder as a review team keeps it: two reference exports and three full texts."""
    folder = tmp_path / "review"
    folder.mkdir()
    (folder / "included.ris").write_text(RIS, encoding="utf-8")
    (folder / "zotero.bib").write_text(BIB, encoding="utf-8")
    (folder / "okafor.pdf").write_bytes(make_pdf([
        ["Harm Reduction Journal (2018)", "https://doi.org/10.1234/peer.2018.1",
         "Peer outreach and syringe programme uptake in three port cities"],
        ["Results", "Clients trusted outreach workers who had injected drugs themselves."],
    ]))
    make_docx(folder / "nguyen.docx", [
        TITLE_B, "Binh Nguyen", "Navigators described a strong sense of purpose.",
    ])
    (folder / "unrelated-report.pdf").write_bytes(make_pdf([
        ["Annual report of the drop-in centre", "Attendance rose in the winter months."],
    ]))
    (folder / ".hidden.pdf").write_bytes(b"not looked at")
    (folder / "notes.xlsx").write_bytes(b"not a kind of file the import reads")
    return folder


@pytest.fixture
def project(tmp_path: Path):
    from cmo_desk.services.projects import new_project

    session = new_project(tmp_path / "review.cmo", coder="Ana Lima")
    yield session
    session.close()
