"""The demo project a new user sees first: illustrative studies coded by two coders.

The study texts (``resources/demo/studies.json``) were written for this demo and say so on their
first line. The two coders partly agree and partly disagree, so agreement figures, blind coding
and reconciliation all have something to show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.resources import resource_path
from cmo_desk.services import coding, synthesis
from cmo_desk.services.projects import new_project
from cmo_desk.services.session import Session

CODER_A = "Lan Nguyen"
CODER_B = "Sam Okafor"

# (study label, coder, [(quote, role, [code names])], [CMOC dict with 'quotes' and 'codes'])
CODING: list[tuple[str, str, list[tuple[str, str, list[str]]], list[dict[str, Any]]]] = [
    ("Odessa 2017", CODER_A, [
        ("police stop people who carry syringes and register them as drug users", "context",
         ["Harassment or arrest of peers or clients", "Drug-user registries"]),
        ("all with their own history of injecting", "mechanism", ["Lived experience ('one of us')"]),
        ("He has been where I am. When he says the clinic will not report me, I believe him.",
         "mechanism", ["Trust"]),
        ("NSP contacts rose from 1,900 to 5,600 a year", "outcome", ["NSP"]),
        ("Several outreach workers were detained by police while carrying syringes", "outcome",
         ["Outcomes for peer workers", "Unintended or negative outcomes"]),
    ], [
        {"context": "Policing and drug-user registration deter clients from fixed NSP sites",
         "mechanism_resource": "Outreach by peers with lived experience of injecting",
         "mechanism_reasoning": "Clients trust peers as 'one of us' and believe their assurances",
         "outcome": "More NSP contacts", "outcome_direction": "+", "outcome_intended": "intended",
         "statement": "If people who inject drugs fear registration by police, then outreach by "
                      "peers increases NSP contacts, because clients trust people who share "
                      "their experience.",
         "confidence": "moderate",
         "quotes": [0, 1, 2, 3], "codes": ["Trust", "NSP"]},
        {"context": "Peers carry syringes where police stop people who carry them",
         "mechanism_resource": "Outreach work with commodities",
         "mechanism_reasoning": "Peers weigh the risk of arrest against their commitment",
         "outcome": "Peer workers detained; some leave the job", "outcome_direction": "-",
         "outcome_intended": "unintended",
         "statement": "If policing targets people carrying syringes, then peer outreach workers "
                      "risk arrest and leave, because the job exposes them to the police.",
         "confidence": "moderate", "quotes": [0, 4],
         "codes": ["Outcomes for peer workers", "Criminalisation and policing"]},
    ]),
    ("Odessa 2017", CODER_B, [
        ("Many people who inject drugs avoid pharmacies and clinics because registration can "
         "cost them their job or their children", "context", ["Drug-user registries"]),
        ("Clients described the outreach workers as \"one of us\"", "mechanism",
         ["Lived experience ('one of us')", "Trust"]),
        ("the share of clients tested for HIV in the past year rose from 31% to 58%", "outcome",
         ["Testing"]),
        ("Peers also reported fatigue from being on call for friends at night", "mechanism",
         ["Role strain and burnout"]),
    ], [
        {"context": "Registration as a drug user threatens jobs and custody of children",
         "mechanism_resource": "Peer outreach workers",
         "mechanism_reasoning": "Trust in peers who are 'one of us'",
         "outcome": "More clients tested for HIV", "outcome_direction": "+",
         "outcome_intended": "intended",
         "statement": "If registration makes services risky, then peer outreach raises HIV "
                      "testing, because clients trust peers who are 'one of us'.",
         "confidence": "high", "quotes": [0, 1, 2], "codes": ["Trust", "Testing"]},
    ]),
    ("Hanoi 2019", CODER_A, [
        ("Women who use drugs face stigma at HIV clinics", "context", ["In health services"]),
        ("With her beside me the nurse spoke to me like a person. I was not afraid any more.",
         "mechanism", ["Bridge (less fear of services and police)"]),
        ("She has taken the pills for six years and she is strong. I want that.", "mechanism",
         ["Role model and hope"]),
        ("118 started antiretroviral treatment within a month of diagnosis", "outcome", ["ART"]),
    ], [
        {"context": "Stigma towards women who use drugs in HIV clinics",
         "mechanism_resource": "Accompaniment by a woman peer navigator",
         "mechanism_reasoning": "Less fear of clinic staff; the navigator is a role model",
         "outcome": "Early start of ART", "outcome_direction": "+", "outcome_intended": "intended",
         "statement": "If clinic staff stigmatise women who use drugs, then peer navigation "
                      "speeds ART initiation, because accompanied women fear the clinic less and "
                      "see treatment working in the navigator.",
         "confidence": "high", "quotes": [0, 1, 2, 3],
         "codes": ["Bridge (less fear of services and police)", "ART"]},
    ]),
    ("Hanoi 2019", CODER_B, [
        ("staff comment on their drug use, their sex work or their children", "context",
         ["Intersecting HIV, sex-work and gender stigma"]),
        ("With her beside me the nurse spoke to me like a person.", "mechanism",
         ["Bridge (less fear of services and police)"]),
        ("The stipend was often paid late", "context", ["Peer employment conditions"]),
        ("When a navigator relapsed, her clients lost contact with the clinic.", "outcome",
         ["Unintended or negative outcomes"]),
    ], [
        {"context": "Stigmatising clinic staff",
         "mechanism_resource": "Peer navigator accompanies the client",
         "mechanism_reasoning": "Client feels safe and respected",
         "outcome": "ART started", "outcome_direction": "+", "outcome_intended": "intended",
         "statement": "If clinics are hostile, then accompaniment by a peer helps women start "
                      "ART, because they feel safe with her.",
         "confidence": "moderate", "quotes": [0, 1],
         "codes": ["Bridge (less fear of services and police)"]},
        {"context": "Late stipends; navigators treated as volunteers",
         "mechanism_resource": "Peer navigation",
         "mechanism_reasoning": "Role strain",
         "outcome": "Clients lose contact when a navigator relapses", "outcome_direction": "-",
         "outcome_intended": "unintended",
         "statement": "If peer navigators are poorly supported, then clients may drop out, "
                      "because care depends on one person.",
         "confidence": "low", "quotes": [2, 3], "codes": ["Role strain and burnout"]},
    ]),
    ("Kunming 2016", CODER_A, [
        ("很多人担心去美沙酮门诊会被警察盯上", "context", ["Drug-user registries"]),
        ("同伴懂我们的难处，他不会看不起我。", "mechanism", ["Feeling understood (empathy)"]),
        ("参加支持小组的服药者的保持率为 71%", "outcome", ["OAT"]),
    ], [
        {"context": "登记制度使服药者担心被警察盯上",
         "mechanism_resource": "康复同伴组织的支持小组",
         "mechanism_reasoning": "被理解、不被歧视",
         "outcome": "美沙酮维持治疗保持率提高", "outcome_direction": "+",
         "outcome_intended": "intended",
         "statement": "如果服药者害怕被登记和监视，那么同伴支持小组会提高治疗保持率，因为同伴理解他们的难处。",
         "confidence": "moderate", "quotes": [0, 1, 2],
         "codes": ["Feeling understood (empathy)", "OAT"]},
    ]),
    ("Nairobi 2021", CODER_A, [
        ("Ambulances rarely enter the settlements, and residents fear that calling for help "
         "brings the police", "context", ["Criminalisation and policing", "Staff shortages"]),
        ("we are the ones who are there at night", "mechanism", ["Credibility"]),
        ("Peers reported 143 overdose reversals in twelve months", "outcome", ["Overdose"]),
        ("Supplies ran out twice when donor funding was delayed", "context",
         ["Donor dependency and transition", "Stock-outs"]),
    ], [
        {"context": "No ambulances; calling for help brings police",
         "mechanism_resource": "Naloxone in the hands of peers",
         "mechanism_reasoning": "Peers are present and accepted at night",
         "outcome": "Overdose reversals", "outcome_direction": "+", "outcome_intended": "intended",
         "statement": "If emergency services are absent or feared, then peer-held naloxone "
                      "reverses overdoses, because peers are the ones present when they happen.",
         "confidence": "moderate", "quotes": [0, 1, 2], "codes": ["Overdose"]},
    ]),
    ("Tbilisi 2018", CODER_B, [
        ("When international donors announced their withdrawal", "context",
         ["Donor dependency and transition"]),
        ("Members used what they knew of their communities", "mechanism",
         ["Use of community knowledge"]),
        ("Harm-reduction budgets were kept in the transition plan.", "outcome",
         ["Community advocacy"]),
    ], [
        {"context": "Donor transition threatens harm-reduction funding",
         "mechanism_resource": "Peer seats on the national funding body",
         "mechanism_reasoning": "Peers use community knowledge; officials hear clients' voice",
         "outcome": "Harm-reduction budgets kept", "outcome_direction": "+",
         "outcome_intended": "intended",
         "statement": "If donors withdraw, then peer-led organisations in governance protect "
                      "harm-reduction budgets, because they bring clients' voice into decisions.",
         "confidence": "low", "quotes": [0, 1, 2], "codes": ["Community advocacy"]},
    ]),
]


def _load_studies() -> list[dict[str, Any]]:
    with open(resource_path("demo", "studies.json"), encoding="utf-8") as fh:
        studies: list[dict[str, Any]] = json.load(fh)
    return studies


def build_demo(path: str | Path) -> Session:
    """Create the demo project at ``path`` and return it open as the first coder."""
    session = new_project(path, coder=CODER_A, title="Demo: peer involvement in harm reduction "
                          "(illustrative)")
    other = Session(session.store, CODER_B)
    other.ensure_coder()
    sessions = {CODER_A: session, CODER_B: other}
    study_ids, doc_of = _write_studies(session)
    _fill_forms(sessions, study_ids)
    _code_studies(sessions, study_ids, doc_of)
    tid = _add_theories(session, other)
    _reconcile_odessa(session, other, study_ids["Odessa 2017"])
    _build_synthesis(session, tid, study_ids)
    return session


def _document_text(pages: list[str]) -> tuple[str, list[int]]:
    """One text of the pages, a blank line between them, and where each page starts."""
    starts, text = [], ""
    for page in pages:
        if text:
            text += "\n\n"
        starts.append(len(text))
        text += page
    return text, starts


def _write_studies(session: Session) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """The illustrative studies and their texts: (label -> study id, label -> (document id,
    text))."""
    study_ids: dict[str, str] = {}
    doc_of: dict[str, tuple[str, str]] = {}
    with session.write() as uow:
        for s in _load_studies():
            sid = uow.create("study", {
                "label": s["label"], "authors": s["authors"], "year": s["year"],
                "title": s["title"], "journal": s["journal"], "reference_type": "illustrative",
                "created_by": session.coder_id})
            text, starts = _document_text(s["pages"])
            did = uow.create("document", {
                "study_id": sid, "filename": s["label"].split(": ")[-1] + ".txt",
                "media_type": "text/plain", "text": text, "page_starts": starts,
                "extractor": "demo", "has_original": False, "created_by": session.coder_id})
            study_ids[s["label"]] = sid
            doc_of[s["label"]] = (did, text)
    return study_ids, doc_of


def _fill_forms(sessions: dict[str, Session], study_ids: dict[str, str]) -> None:
    """Each coder fills the study form of the studies they code; B rates rigour lower."""
    for s in _load_studies():
        for who, sess in sessions.items():
            if not any(label == s["label"] and coder == who for label, coder, _, _ in CODING):
                continue
            for key, value in s["form"].items():
                if who == CODER_B and key == "rigour":
                    value = {"high": "moderate", "moderate": "low", "low": "low"}[value]
                coding.set_form_value(sess, study_ids[s["label"]], key, value)


def _code_studies(sessions: dict[str, Session], study_ids: dict[str, str],
                  doc_of: dict[str, tuple[str, str]]) -> None:
    """Each coder's excerpts and the CMOCs built on them."""
    by_name = {c.name: c.id for c in sessions[CODER_A].store.list("code")}
    for label, who, excerpts, cmocs in CODING:
        sess = sessions[who]
        did, text = doc_of[label]
        ex_ids = []
        for quote, role, codes in excerpts:
            start = text.find(quote)
            if start < 0:
                raise ValidationError(f"Demo quote not found in {label}: {quote[:40]}")
            eid, _ = coding.add_excerpt(sess, did, start, start + len(quote), role,
                                        [by_name[c] for c in codes])
            ex_ids.append(eid)
        for cm in cmocs:
            values = {k: v for k, v in cm.items() if k not in ("quotes", "codes")}
            coding.create_cmoc(sess, study_ids[label], values,
                               [ex_ids[i] for i in cm["quotes"]],
                               [by_name[c] for c in cm["codes"]])


def _add_theories(session: Session, other: Session) -> str:
    """Two programme theories; every CMOC whose reasoning is trust supports the first."""
    tid, _ = coding.add_theory(
        session, "PT1 Trust", "Peers with lived experience earn the trust of people who use "
        "drugs, which draws them into services they otherwise avoid for fear of police and "
        "stigma.", "v1", "initial")
    coding.add_theory(
        session, "PT2 Peer work conditions", "Peer roles last only when peers are paid, "
        "supervised and protected from policing; otherwise role strain ends the work.", "v1",
        "initial")
    for cm in session.store.list("cmoc"):
        if "trust" in (cm.mechanism_reasoning or "").lower():
            owner = session if cm.owner_id == session.coder_id else other
            coding.link_theory(owner, cm.id, tid, "supports")
    return tid


def _reconcile_odessa(session: Session, other: Session, odessa: str) -> None:
    """Both coders submitted Odessa; the team reconciled it into one consensus CMOC."""
    coding.assign(session, odessa, [session.coder_id or "", other.coder_id or ""])
    coding.submit_study(session, odessa)
    coding.submit_study(other, odessa)
    a_trust = [c for c in session.store.list("cmoc", study_id=odessa, owner_id=session.coder_id)
               if "NSP" in (c.outcome or "")]
    b_trust = [c for c in session.store.list("cmoc", study_id=odessa, owner_id=other.coder_id)]
    coding.create_consensus(
        session, odessa,
        {"context": "Policing and registration of people who use drugs deter them from fixed "
                    "services",
         "mechanism_resource": "Outreach by peers with lived experience of injecting",
         "mechanism_reasoning": "Clients trust peers as 'one of us' and believe their assurances "
                                "about confidentiality",
         "outcome": "More NSP contacts and more HIV testing", "outcome_direction": "+",
         "outcome_intended": "intended",
         "statement": "If fear of police registration keeps people who inject drugs away from "
                      "services, then peer outreach increases NSP use and HIV testing, because "
                      "clients trust peers who share their experience.",
         "confidence": "high"},
        [c.id for c in a_trust + b_trust], "merged",
        "A's and B's CMOCs describe the same mechanism with different outcomes; merged.")


def _build_synthesis(session: Session, theory_id: str, study_ids: dict[str, str]) -> None:
    """Review CMOCs of PT1 built from several studies' CMOCs, and its initial and refined
    versions: what a team has after its first synthesis meeting."""

    def cmocs_of(label: str, word: str) -> list[str]:
        sid = study_ids[label]
        found = [c.id for c in session.store.list("cmoc", study_id=sid)
                 if word.lower() in (c.statement or "").lower()]
        found += [c.id for c in session.store.list("consensus", study_id=sid)
                  if word.lower() in (c.statement or "").lower()]
        if not found:
            raise ValidationError(f"Demo CMOC not found in {label}: {word}")
        return found

    c1, _ = synthesis.add_review_cmoc(session, theory_id, {
        "context": "Policing makes fixed services risky for people who use drugs",
        "mechanism_resource": "Outreach and support by peers with lived experience",
        "mechanism_reasoning": "Clients trust peers as 'one of us'",
        "outcome": "More use of NSP, HIV testing and OAT", "outcome_direction": "+",
        "statement": "If policing makes services risky, then peer outreach raises their use, "
                     "because clients trust peers who share their experience."})
    c2, _ = synthesis.add_review_cmoc(session, theory_id, {
        "context": "Clinic staff stigmatise people who use drugs",
        "mechanism_resource": "Accompaniment by a peer navigator",
        "mechanism_reasoning": "Less fear of the clinic; the navigator is a role model",
        "outcome": "Earlier start of ART and more HIV testing", "outcome_direction": "+",
        "statement": "If clinics stigmatise people who use drugs, then peer navigation brings "
                     "them into care, because they fear the clinic less beside a peer."})
    for cid in cmocs_of("Odessa 2017", "trust"):
        synthesis.link_source(session, c1, cid, "supports", "Trust in peers raised NSP use.")
    for cid in cmocs_of("Kunming 2016", "同伴"):
        synthesis.link_source(session, c1, cid, "supports", "Empathy of peers kept people on OAT.")
    for cid in cmocs_of("Nairobi 2021", "naloxone"):
        synthesis.link_source(session, c1, cid, "refines",
                              "Presence at night, rather than trust, carried this outcome.")
    for cid in cmocs_of("Hanoi 2019", "accompan") + cmocs_of("Hanoi 2019", "navigation"):
        synthesis.link_source(session, c2, cid, "supports")
    for cid in cmocs_of("Odessa 2017", "testing"):
        synthesis.link_source(session, c2, cid, "refines",
                              "Testing rose with outreach alone, without accompaniment.")
    synthesis.set_confidence(session, c1, "moderate",
                             "Three studies in three countries agree; Odessa and Kunming are "
                             "rich in clients' words, but no design had a comparison group.",
                             {"relevance": "none", "richness": "none", "rigour": "moderate",
                              "coherence": "minor", "adequacy": "none"})
    synthesis.set_confidence(session, c2, "low",
                             "One study describes the mechanism; Odessa supports only the "
                             "outcome. Thin data from a single city.",
                             {"relevance": "minor", "richness": "moderate",
                              "adequacy": "moderate"})
    synthesis.record_version(session, theory_id,
                             "Initial programme theory from the team's experience and the "
                             "first reading of five studies.")
    synthesis.update_review_cmoc(session, c1, {
        "context": "Policing and drug-user registration make fixed services risky"})
    c3, _ = synthesis.add_review_cmoc(session, theory_id, {
        "context": "Peer workers are detained, unpaid or on call alone",
        "mechanism_resource": "Care that rests on one peer",
        "mechanism_reasoning": "Role strain; peers weigh the risk of arrest",
        "outcome": "Peers leave and clients lose contact with services",
        "outcome_direction": "-",
        "statement": "If peer workers are exposed to police and poorly supported, then the "
                     "bridge breaks, because care depends on one person who cannot stay."})
    for cid in cmocs_of("Odessa 2017", "arrest") + cmocs_of("Hanoi 2019", "drop out"):
        synthesis.link_source(session, c3, cid, "supports")
    synthesis.set_confidence(session, c3, "low",
                             "Two studies report it in passing; neither set out to study it.",
                             {"richness": "serious", "coherence": "none", "adequacy": "minor"})
    synthesis.record_version(
        session, theory_id,
        "Odessa and Hanoi show the bridge breaks when peers are detained or relapse: added "
        "PT1-C3 and narrowed PT1-C1 to registration, which both Odessa coders described.",
        "Peers with lived experience earn the trust of people who use drugs and draw them into "
        "services they avoid for fear of police, registration and stigma, for as long as the "
        "peers themselves are protected and supported.")
