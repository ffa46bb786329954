"""A small project snapshot like the peer-involvement review, built by hand."""

from __future__ import annotations

import pytest

from cmo_desk.domain.records import (
    Cmoc,
    Code,
    Coder,
    Consensus,
    Document,
    Excerpt,
    FormValue,
    Project,
    Study,
    Theory,
)
from cmo_desk.domain.snapshot import ProjectSnapshot

ZH_QUOTE = "同伴教育者与注射吸毒者建立了信任，使他们愿意接受美沙酮维持治疗。"
AR_QUOTE = "العاملون الأقران يبنون الثقة مع متعاطي المخدرات"
RU_QUOTE = "Равные консультанты помогают клиентам получить доступ к заместительной терапии."
DIRTY = "Trust\x00 was built\x0bslowly by peer work\ufffeers\x07."
DIRTY_CLEAN = "Trust was built\nslowly by peer workers."


def make_snapshot(template: dict | None = None) -> ProjectSnapshot:
    coders = (
        Coder("c-ana", name="Ana Petrova", initials="AP"),
        Coder("c-li", name="Li Wei", initials="LW"),
    )
    studies = (
        Study(
            "s-booth",
            label="Booth 2016",
            authors=["Booth RE", "Davis JM", "Dvoryak S"],
            year=2016,
            title="HIV incidence among people who inject drugs in Ukraine",
            journal="Drug Alcohol Depend",
            volume="162",
            pages="24-32",
        ),
        Study(
            "s-zhang",
            label="张 2019",
            authors=["张伟"],
            year=2019,
            title="同伴教育对注射吸毒者美沙酮维持治疗的影响",
            journal="中国艾滋病性病",
        ),
        Study("s-amin", label="Amin 2020", authors=["Amin N"], year=2020, title="Peer outreach"),
        Study("s-dup", label="Booth 2016 (copy)", merged_into="s-booth"),
    )
    documents = (
        Document("d-booth", study_id="s-booth", text="x" * 400, page_starts=[0, 100, 200, 300]),
    )
    excerpts = (
        Excerpt("e1", document_id="d-booth", study_id="s-booth", start=120, end=150,
                quote="Peers were trusted because they had been there.", page=4, role="mechanism",
                owner_id="c-ana", code_ids=("k-trust",), memo="key passage"),
        Excerpt("e2", document_id="d-booth", study_id="s-booth", start=210, end=260,
                quote="Incidence fell in the intervention arm.", role="outcome",
                owner_id="c-li", code_ids=("k-hiv",)),
        Excerpt("e3", study_id="s-zhang", quote=ZH_QUOTE, page=7, role="context",
                owner_id="c-li"),
        Excerpt("e4", study_id="s-amin", quote=AR_QUOTE + " / " + RU_QUOTE, page=2,
                owner_id="c-ana"),
        Excerpt("e5", study_id="s-amin", quote=DIRTY, page=3, owner_id="c-ana"),
    )
    codes = (
        Code("k-mech", name="Mechanism – reasoning", kind="mechanism", sort_order=1),
        Code("k-trust", name="Trust", kind="mechanism", parent_id="k-mech", sort_order=2),
        Code("k-hiv", name="HIV incidence", kind="outcome", sort_order=3),
        Code("k-old", name="Trust (old)", merged_into="k-trust"),
    )
    theories = (
        Theory("t1", label="PT1", version="2",
               statement="Peers who are 'one of us' build trust that brings clients to services."),
    )
    cmocs = (
        Cmoc("m-booth-ana", study_id="s-booth", owner_id="c-ana", status="submitted",
             context="Criminalisation and police harassment",
             mechanism_resource="Lived experience", mechanism_reasoning="Trust",
             outcome="HIV incidence fell", outcome_direction="+",
             statement="If peers deliver outreach then clients engage because they trust peers.",
             code_ids=("k-trust",), excerpt_ids=("e1", "e2"), theories=(("t1", "supports"),)),
        Cmoc("m-booth-li", study_id="s-booth", owner_id="c-li", status="submitted",
             context="Police harassment", outcome="Fewer new infections", outcome_direction="+",
             code_ids=("k-old",), excerpt_ids=("e2",)),
        Cmoc("m-zhang-li", study_id="s-zhang", owner_id="c-li", status="submitted",
             context="社区对吸毒者的歧视", mechanism_reasoning="信任",
             outcome="美沙酮治疗依从性提高", outcome_direction="mixed",
             excerpt_ids=("e3",), confidence="moderate"),
        Cmoc("m-amin-ana", study_id="s-amin", owner_id="c-ana", status="draft",
             context=AR_QUOTE, mechanism_resource=RU_QUOTE, outcome=DIRTY,
             outcome_direction="-", outcome_intended="unintended", excerpt_ids=("e4", "e5")),
        Cmoc("m-amin-gone", study_id="s-amin", owner_id="c-li", status="set_aside",
             context="SET ASIDE CONTEXT"),
        Cmoc("m-dup", study_id="s-dup", owner_id="c-ana", status="submitted",
             context="Recorded against the duplicate"),
    )
    consensus = (
        Consensus("x-booth", study_id="s-booth", resolution="agreed",
                  context="Criminalisation; police harassment of peers and clients",
                  mechanism_resource="Lived experience ('one of us')",
                  mechanism_reasoning="Clients trust peers",
                  outcome="Lower HIV incidence", outcome_direction="+",
                  statement="If peers who have injected drugs do outreach, then clients accept "
                            "services, because they trust someone who has been there.",
                  source_ids=("m-booth-ana", "m-booth-li"), code_ids=("k-trust", "k-hiv"),
                  excerpt_ids=("e1", "e2")),
    )
    form_values = (
        FormValue("f1", study_id="s-booth", coder_id="c-ana", key="countries",
                  value=["Ukraine", "Crimea"]),
        FormValue("f2", study_id="s-booth", coder_id="c-li", key="countries",
                  value=["Ukraine", "Crimea"]),
        FormValue("f3", study_id="s-booth", coder_id="c-ana", key="relevance", value="high"),
        FormValue("f3j", study_id="s-booth", coder_id="c-ana", key="relevance_justification",
                  value="Peer outreach arm described in detail"),
        FormValue("f4", study_id="s-booth", coder_id="c-li", key="relevance", value="moderate"),
        FormValue("f5", study_id="s-booth", coder_id=None, key="rigour", value="high"),
        FormValue("f6", study_id="s-booth", coder_id="c-ana", key="income_group",
                  value="lower-middle"),
        FormValue("f6y", study_id="s-booth", coder_id="c-ana", key="income_fiscal_year",
                  value="FY2016"),
        FormValue("f6b", study_id="s-booth", coder_id="c-ana", key="income_basis",
                  value="at time of study"),
        FormValue("f7", study_id="s-zhang", coder_id="c-li", key="countries", value=["中国"]),
        FormValue("f8", study_id="s-zhang", coder_id="c-li", key="design", value="队列研究"),
    )
    return ProjectSnapshot(
        project=Project("p1", title="Peer involvement in harm reduction", template=template),
        coders=coders,
        studies=studies,
        documents=documents,
        excerpts=excerpts,
        codes=codes,
        cmocs=cmocs,
        consensus=consensus,
        theories=theories,
        form_values=form_values,
    )


@pytest.fixture
def snapshot() -> ProjectSnapshot:
    return make_snapshot()
