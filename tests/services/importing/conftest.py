"""Small files made for the import tests: PDFs written by hand, DOCX via python-docx, references."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"

from pdf_builder import make_pdf  # noqa: E402  (tests/ is on pytest's path)


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
        "AIDS Care, 2019", TITLE_B, "Binh Nguyen", "Navigators described a strong sense of purpose.",
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
