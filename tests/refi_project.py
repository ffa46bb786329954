"""A small hand-built project for the REFI-QDA tests: two coders, a code tree, an English and a
Chinese document (the English one with its original PDF), excerpts, CMOCs and memos."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from cmo_desk.domain.ids import coder_id
from cmo_desk.domain.records import Cmoc, Code, Coder, Consensus, Document, Excerpt, Project, Study
from cmo_desk.domain.snapshot import ProjectSnapshot

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus"
SCHEMAS = REPO / "schemas" / "refi"

ENGLISH = (
    "Nurses who trusted the programme leaders attended the training sessions.\n"
    "Because they felt supported, they changed their practice and patients waited less."
)
CHINESE = "在农村诊所，护士因为得到同伴的支持而更愿意参加培训。结果：患者等待时间缩短了。"

ANNA = coder_id("Anna Li")
BEN = coder_id("Ben Osei")

C_CONTEXT = "0b9f6a1e-1111-4c1a-9d0e-000000000001"
C_TRUST = "0b9f6a1e-1111-4c1a-9d0e-000000000002"
C_RURAL = "0b9f6a1e-1111-4c1a-9d0e-000000000003"
C_MECH = "0b9f6a1e-1111-4c1a-9d0e-000000000004"
C_SUPPORT = "0b9f6a1e-1111-4c1a-9d0e-000000000005"
C_OUTCOME = "0b9f6a1e-1111-4c1a-9d0e-000000000006"
C_WAIT = "0b9f6a1e-1111-4c1a-9d0e-000000000007"

S_EN = "5a7c0d2e-2222-4b7f-8c3d-000000000001"
S_ZH = "5a7c0d2e-2222-4b7f-8c3d-000000000002"
D_EN = "7e1d9b3c-3333-4e2a-b5f6-000000000001"
D_ZH = "7e1d9b3c-3333-4e2a-b5f6-000000000002"


def _span(text: str, quote: str) -> tuple[int, int]:
    start = text.index(quote)
    return start, start + len(quote)


def _excerpt(eid: str, doc: str, study: str, text: str, quote: str, **kw) -> Excerpt:
    start, end = _span(text, quote)
    return Excerpt(
        id=eid,
        document_id=doc,
        study_id=study,
        start=start,
        end=end,
        quote=quote,
        before=text[max(0, start - 40) : start],
        after=text[end : end + 40],
        **kw,
    )


def tiny_pdf() -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    pdf.new_page(200, 200)
    import io

    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def make_snapshot() -> ProjectSnapshot:
    pdf_bytes = tiny_pdf()
    codes = (
        Code(id=C_CONTEXT, name="Context", kind="context", color="#1F77B4", sort_order=0,
             definition="Circumstances that switch mechanisms on or off.", include_notes="Setting, staff",
             exclude_notes="Programme activities"),
        Code(id=C_TRUST, name="Trust in leaders", kind="context", parent_id=C_CONTEXT, color="#AEC7E8"),
        Code(id=C_RURAL, name="农村诊所", kind="context", parent_id=C_CONTEXT),
        Code(id=C_MECH, name="Mechanism", kind="mechanism", color="#FF7F0E", sort_order=1),
        Code(id=C_SUPPORT, name="Feeling supported", kind="mechanism", parent_id=C_MECH,
             definition="Reasoning: staff feel backed."),
        Code(id=C_OUTCOME, name="Outcome", kind="outcome", color="#2CA02C", sort_order=2),
        Code(id=C_WAIT, name="Shorter waits", kind="outcome", parent_id=C_OUTCOME, color="#abc"),
    )
    excerpts = (
        _excerpt("a1000000-0000-4000-8000-000000000001", D_EN, S_EN, ENGLISH,
                 "Nurses who trusted the programme leaders", role="context", owner_id=ANNA,
                 code_ids=(C_TRUST,), memo="Trust came first."),
        _excerpt("a1000000-0000-4000-8000-000000000002", D_EN, S_EN, ENGLISH,
                 "Because they felt supported", role="mechanism", owner_id=ANNA,
                 code_ids=(C_SUPPORT, C_MECH)),
        _excerpt("a1000000-0000-4000-8000-000000000003", D_EN, S_EN, ENGLISH,
                 "patients waited less", role="outcome", owner_id=BEN, code_ids=(C_WAIT,)),
        _excerpt("a1000000-0000-4000-8000-000000000004", D_ZH, S_ZH, CHINESE,
                 "在农村诊所", role="context", owner_id=BEN, code_ids=(C_RURAL,)),
        _excerpt("a1000000-0000-4000-8000-000000000005", D_ZH, S_ZH, CHINESE,
                 "患者等待时间缩短了", role="outcome", owner_id=BEN, code_ids=(C_WAIT,)),
    )
    cmocs = (
        Cmoc(id="c1000000-0000-4000-8000-000000000001", study_id=S_EN, context="Trusted leaders",
             mechanism_resource="Training", mechanism_reasoning="Nurses feel supported\nand safe",
             outcome="Patients wait less", outcome_direction="+", statement="If trusted, then...",
             status="submitted", memo="Strong quote.", owner_id=ANNA,
             code_ids=(C_TRUST, C_SUPPORT, C_WAIT),
             excerpt_ids=tuple(e.id for e in excerpts[:3])),
        Cmoc(id="c1000000-0000-4000-8000-000000000002", study_id=S_ZH, context="农村诊所",
             outcome="等待时间缩短", owner_id=BEN, status="draft",
             excerpt_ids=(excerpts[3].id, excerpts[4].id)),
    )
    consensus = (
        Consensus(id="d1000000-0000-4000-8000-000000000001", study_id=S_EN, context="Trusted leaders",
                  outcome="Patients wait less", resolution="agreed", reconciled_by=ANNA,
                  source_ids=(cmocs[0].id,), code_ids=(C_TRUST,), excerpt_ids=(excerpts[0].id,)),
    )
    blobs = {"sha-en": pdf_bytes}
    return ProjectSnapshot(
        project=Project(id="9f000000-0000-4000-8000-000000000001", title="Nurse training review",
                        description="A realist review of nurse training."),
        coders=(Coder(id=ANNA, name="Anna Li", initials="AL"), Coder(id=BEN, name="Ben Osei", initials="BO")),
        studies=(Study(id=S_EN, label="Smith 2019", title="Training nurses", year=2019),
                 Study(id=S_ZH, label="王 2021", year=2021)),
        documents=(
            Document(id=D_EN, study_id=S_EN, filename="smith2019.pdf", media_type="application/pdf",
                     sha256="sha-en", has_original=True, text=ENGLISH, page_starts=[0]),
            Document(id=D_ZH, study_id=S_ZH, filename="wang2021.txt", media_type="text/plain",
                     sha256="sha-zh", has_original=False, text=CHINESE, page_starts=[0]),
        ),
        excerpts=excerpts,
        codes=codes,
        cmocs=cmocs,
        consensus=consensus,
        get_blob=blobs.get,
    )


@pytest.fixture(scope="session")
def snapshot() -> ProjectSnapshot:
    return make_snapshot()


@pytest.fixture(scope="session")
def project_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "Project-mrt2019.xsd")))


@pytest.fixture(scope="session")
def codebook_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "Codebook-mrt2019.xsd")))
