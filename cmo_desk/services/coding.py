"""Coding use cases: excerpts, CMOCs, codes, theories, form values, consensus, conflicts.

Each function is one unit of work and returns what it changed (``Changed``), plus the id of a
record it created where that matters, so the desk can refresh and undo precisely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TYPE_CHECKING

from cmo_desk.domain import records as rec
from cmo_desk.domain.anchoring import context_around
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import as_entity_type
from cmo_desk.domain.records import AssignmentStatus, CmocStatus, CodeKind, Role
from cmo_desk.domain.schema import CMOC_SLOTS, CODE_LINKS
from cmo_desk.services.session import Session

if TYPE_CHECKING:  # (the store loads when a project opens)
    from cmo_desk.store.project_store import UnitOfWork

ROLE_COLORS = {
    Role.CONTEXT.value: "#2e7d32",
    Role.MECHANISM.value: "#1565c0",
    Role.OUTCOME.value: "#c62828",
    Role.INTERVENTION.value: "#6a1b9a",
    Role.OTHER.value: "#616161",
}


def _check_role(role: str | None) -> None:
    if role is not None and role not in {r.value for r in Role}:
        raise ValidationError(
            f"'{role}' is not a role. Use one of: " + ", ".join(r.value for r in Role) + ".")


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in {k.value for k in CodeKind}:
        raise ValidationError(
            f"'{kind}' is not a code kind. Use one of: " + ", ".join(k.value for k in CodeKind)
            + ".")


def _locked(session: Session, study_id: str | None) -> bool:
    """A coder's own work on a study is locked once they submitted it."""
    if not study_id or not session.coder_id:
        return False
    found = session.store.links("assignment", study_id=study_id, coder_id=session.coder_id)
    return bool(found and found[0]["status"] == AssignmentStatus.SUBMITTED.value)


def _guard_unlocked(session: Session, study_id: str | None) -> None:
    if _locked(session, study_id):
        raise ValidationError(tr(
            "You submitted this study, so your coding of it is locked. "
            "Ask the coordinator to reopen it."))


def _guard_owner(session: Session, owner_id: str | None, what: str) -> None:
    if owner_id and session.coder_id and owner_id != session.coder_id:
        raise ValidationError(tr(
            "This {what} belongs to another coder; only they can change it. "
            "Make a consensus CMOC instead.").format(what=tr(what)))


# -- studies -------------------------------------------------------------------------------


def add_study(session: Session, values: dict[str, Any]) -> tuple[str, rec.Changed]:
    with session.write() as uow:
        sid = uow.create("study", {**values, "created_by": session.coder_id})
    return sid, uow.changed


def update_study(session: Session, study_id: str, values: dict[str, Any]) -> rec.Changed:
    with session.write() as uow:
        uow.update("study", study_id, values)
    return uow.changed


def set_form_value(session: Session, study_id: str, key: str, value: Any) -> rec.Changed:
    """One field of this coder's study form."""
    coder = session.require_coder()
    _guard_unlocked(session, study_id)
    if isinstance(value, str):
        value = value.strip() or None
    if isinstance(value, list):
        value = [v for v in value if v not in (None, "")] or None
    with session.write() as uow:
        uow.link("form_value", study_id=study_id, coder_id=coder, key=key, value=value)
    return uow.changed


def form_values(session: Session, study_id: str, coder_id: str | None = None) -> dict[str, Any]:
    coder = coder_id or session.coder_id
    return {fv.key: fv.value for fv in session.store.list(
        "form_value", study_id=study_id, coder_id=coder) if fv.key}


# -- excerpts ------------------------------------------------------------------------------


def add_excerpt(
    session: Session,
    document_id: str,
    start: int,
    end: int,
    role: str | None = None,
    code_ids: Iterable[str] = (),
    memo: str | None = None,
) -> tuple[str, rec.Changed]:
    """Mark a passage of a document; the exact quote and some surrounding text are kept."""
    session.require_coder()
    _check_role(role)
    doc: rec.Document | None = session.store.get("document", document_id)
    if doc is None:
        raise ValidationError("That document no longer exists; choose another study.")
    text = doc.text or ""
    start, end = sorted((int(start), int(end)))
    start, end = max(0, start), min(len(text), end)
    if end <= start:
        raise ValidationError(tr("Select some text first, then mark it."))
    _guard_unlocked(session, doc.study_id)
    before, after = context_around(text, start, end)
    with session.write() as uow:
        eid = uow.create("excerpt", {
            "document_id": document_id,
            "study_id": doc.study_id,
            "start": start,
            "end": end,
            "quote": text[start:end],
            "before": before,
            "after": after,
            "page": doc.known_page_at(start),
            "role": role,
            "memo": memo,
            "owner_id": session.coder_id,
        })
        for cid in code_ids:
            uow.link("excerpt_code", excerpt_id=eid, code_id=cid)
    return eid, uow.changed


def _owned(session: Session, etype: Literal["excerpt", "cmoc"], entity_id: str, what: str,
           include_deleted: bool = False) -> Any:
    """A coder's own excerpt or CMOC, checked before it is changed: it exists, it is theirs,
    and they have not submitted its study."""
    record: Any = session.store.get(etype, entity_id, include_deleted=include_deleted)
    if record is None:
        raise ValidationError(tr("That {what} no longer exists.").format(what=tr(what)))
    _guard_owner(session, record.owner_id, what)
    _guard_unlocked(session, record.study_id)
    return record


def _own_excerpt(session: Session, excerpt_id: str, include_deleted: bool = False) -> rec.Excerpt:
    excerpt: rec.Excerpt = _owned(session, "excerpt", excerpt_id, "excerpt", include_deleted)
    return excerpt


def update_excerpt(session: Session, excerpt_id: str, values: dict[str, Any]) -> rec.Changed:
    _own_excerpt(session, excerpt_id)
    if "role" in values:
        _check_role(values["role"])
    allowed = {"role", "memo"}
    bad = set(values) - allowed
    if bad:
        raise ValidationError(f"An excerpt's {sorted(bad)} cannot be edited; mark a new passage.")
    with session.write() as uow:
        uow.update("excerpt", excerpt_id, values)
    return uow.changed


def set_excerpt_codes(session: Session, excerpt_id: str, code_ids: Iterable[str]) -> rec.Changed:
    ex = _own_excerpt(session, excerpt_id)
    wanted = set(code_ids)
    with session.write() as uow:
        for cid in set(ex.code_ids) - wanted:
            uow.unlink("excerpt_code", excerpt_id=excerpt_id, code_id=cid)
        for cid in wanted - set(ex.code_ids):
            uow.link("excerpt_code", excerpt_id=excerpt_id, code_id=cid)
    return uow.changed


def delete_excerpt(session: Session, excerpt_id: str) -> rec.Changed:
    _own_excerpt(session, excerpt_id)
    with session.write() as uow:
        uow.delete("excerpt", excerpt_id)
    return uow.changed


def restore_excerpt(session: Session, excerpt_id: str) -> rec.Changed:
    _own_excerpt(session, excerpt_id, include_deleted=True)
    with session.write() as uow:
        uow.restore("excerpt", excerpt_id)
    return uow.changed


def visible_excerpts(
    session: Session, *, document_id: str | None = None, study_id: str | None = None,
    show_others: bool = False,
) -> list[rec.Excerpt]:
    """Blind coding: a coder sees only their own excerpts unless they ask to see everyone's."""
    filters: dict[str, Any] = {}
    if document_id:
        filters["document_id"] = document_id
    if study_id:
        filters["study_id"] = study_id
    if not show_others and session.coder_id:
        filters["owner_id"] = session.coder_id
    return session.store.list("excerpt", **filters)


# -- CMOCs ---------------------------------------------------------------------------------


def _check_slots(values: dict[str, Any]) -> dict[str, Any]:
    allowed = set(CMOC_SLOTS) | {"status", "memo", "set_aside_reason", "sort_order"}
    bad = set(values) - allowed
    if bad:
        raise ValidationError(f"A CMOC has no {sorted(bad)}; use: {', '.join(sorted(allowed))}.")
    clean = {}
    for k, v in values.items():
        clean[k] = (v.strip() or None) if isinstance(v, str) else v
    if clean.get("outcome_direction") not in (None, *(d.value for d in rec.Direction)):
        raise ValidationError("Outcome direction must be +, - or mixed.")
    if clean.get("confidence") not in (None, *(c.value for c in rec.Confidence)):
        raise ValidationError("Confidence must be high, moderate or low.")
    return clean


def new_cmoc(uow: UnitOfWork, study_id: str, owner_id: str, values: dict[str, Any],
             sort_order: int) -> str:
    """The one way a CMOC record is made: a draft with checked slots (empty ones left out), owned
    by ``owner_id``, placed ``sort_order`` among the owner's CMOCs of the study."""
    return uow.create("cmoc", {"status": CmocStatus.DRAFT.value, "sort_order": sort_order,
                               **_check_slots(values), "study_id": study_id,
                               "owner_id": owner_id})


def create_cmoc(
    session: Session,
    study_id: str,
    values: dict[str, Any] | None = None,
    excerpt_ids: Iterable[str] = (),
    code_ids: Iterable[str] = (),
) -> tuple[str, rec.Changed]:
    """A new CMOC owned by this coder; slots may stay empty and be filled over time."""
    session.require_coder()
    _guard_unlocked(session, study_id)
    values = _check_slots(values or {})
    if session.store.get("study", study_id) is None:
        raise ValidationError("That study no longer exists.")
    n = session.store.count("cmoc", study_id=study_id, owner_id=session.coder_id)
    with session.write() as uow:
        cid = new_cmoc(uow, study_id, session.require_coder(), values, n + 1)
        for eid in excerpt_ids:
            ex = uow.current("excerpt", eid)
            slot = ex.get("role") if ex else None
            uow.link("cmoc_excerpt", cmoc_id=cid, excerpt_id=eid, slot=slot)
        for code in code_ids:
            uow.link("cmoc_code", cmoc_id=cid, code_id=code)
    return cid, uow.changed


def _own_cmoc(session: Session, cmoc_id: str, include_deleted: bool = False) -> rec.Cmoc:
    cmoc: rec.Cmoc = _owned(session, "cmoc", cmoc_id, "CMOC", include_deleted)
    return cmoc


def update_cmoc(session: Session, cmoc_id: str, values: dict[str, Any]) -> rec.Changed:
    _own_cmoc(session, cmoc_id)
    values = _check_slots(values)
    with session.write() as uow:
        uow.update("cmoc", cmoc_id, values)
    return uow.changed


def delete_cmoc(session: Session, cmoc_id: str) -> rec.Changed:
    _own_cmoc(session, cmoc_id)
    with session.write() as uow:
        uow.delete("cmoc", cmoc_id)
    return uow.changed


def restore_cmoc(session: Session, cmoc_id: str) -> rec.Changed:
    _own_cmoc(session, cmoc_id, include_deleted=True)
    with session.write() as uow:
        uow.restore("cmoc", cmoc_id)
    return uow.changed


def link_excerpt(session: Session, cmoc_id: str, excerpt_id: str,
                 slot: str | None = None) -> rec.Changed:
    """Attach evidence to a CMOC (an excerpt dropped onto one of its slots)."""
    _own_cmoc(session, cmoc_id)
    ex = session.store.get("excerpt", excerpt_id)
    if ex is None:
        raise ValidationError("That excerpt no longer exists.")
    with session.write() as uow:
        uow.link("cmoc_excerpt", cmoc_id=cmoc_id, excerpt_id=excerpt_id, slot=slot or ex.role)
    return uow.changed


def unlink_excerpt(session: Session, cmoc_id: str, excerpt_id: str) -> rec.Changed:
    _own_cmoc(session, cmoc_id)
    with session.write() as uow:
        uow.unlink("cmoc_excerpt", cmoc_id=cmoc_id, excerpt_id=excerpt_id)
    return uow.changed


def set_cmoc_codes(session: Session, cmoc_id: str, code_ids: Iterable[str]) -> rec.Changed:
    cmoc = _own_cmoc(session, cmoc_id)
    wanted = set(code_ids)
    with session.write() as uow:
        for c in set(cmoc.code_ids) - wanted:
            uow.unlink("cmoc_code", cmoc_id=cmoc_id, code_id=c)
        for c in wanted - set(cmoc.code_ids):
            uow.link("cmoc_code", cmoc_id=cmoc_id, code_id=c)
    return uow.changed


def link_theory(session: Session, cmoc_id: str, theory_id: str,
                relation: str = rec.TheoryRelation.SUPPORTS.value) -> rec.Changed:
    _own_cmoc(session, cmoc_id)
    if relation not in {r.value for r in rec.TheoryRelation}:
        raise ValidationError("The relation must be supports, refutes, refines or new.")
    with session.write() as uow:
        uow.link("cmoc_theory", cmoc_id=cmoc_id, theory_id=theory_id, relation=relation)
    return uow.changed


def unlink_theory(session: Session, cmoc_id: str, theory_id: str) -> rec.Changed:
    _own_cmoc(session, cmoc_id)
    with session.write() as uow:
        uow.unlink("cmoc_theory", cmoc_id=cmoc_id, theory_id=theory_id)
    return uow.changed


def set_aside(session: Session, cmoc_id: str, reason: str) -> rec.Changed:
    """Reconciliation: an unpaired CMOC is kept but set aside, with the reason recorded."""
    if not reason.strip():
        raise ValidationError(tr("Give a reason for setting this CMOC aside."))
    with session.write() as uow:
        uow.update("cmoc", cmoc_id, {"status": CmocStatus.SET_ASIDE.value,
                                     "set_aside_reason": reason.strip()})
    return uow.changed


def visible_cmocs(session: Session, study_id: str, show_others: bool = False) -> list[rec.Cmoc]:
    filters: dict[str, Any] = {"study_id": study_id}
    if not show_others and session.coder_id:
        filters["owner_id"] = session.coder_id
    return session.store.list("cmoc", **filters)


# -- codes and theories --------------------------------------------------------------------


def add_code(
    session: Session, name: str, kind: str = CodeKind.OTHER.value, parent_id: str | None = None,
    definition: str | None = None, color: str | None = None,
) -> tuple[str, rec.Changed]:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(tr("A code needs a name."))
    _check_kind(kind)
    n = session.store.count("code")
    with session.write() as uow:
        cid = uow.create("code", {"name": name, "kind": kind, "parent_id": parent_id,
                                  "definition": definition, "color": color,
                                  "sort_order": n + 1, "created_by": session.coder_id})
    return cid, uow.changed


def update_code(session: Session, code_id: str, values: dict[str, Any]) -> rec.Changed:
    if "kind" in values:
        _check_kind(values["kind"])
    if "name" in values:
        values = {**values, "name": " ".join((values["name"] or "").split())}
        if not values["name"]:
            raise ValidationError(tr("A code needs a name."))
    if values.get("parent_id"):
        # Refuse cycles: a code cannot be moved under itself or one of its descendants.
        # (a cycle a merge left for a person to settle is walked once, never round and round)
        codes = {c.id: c for c in session.store.list("code")}
        p: str | None = values["parent_id"]
        walked: set[str] = set()
        while p and p not in walked:
            if p == code_id:
                raise ValidationError(tr("A code cannot be moved under itself."))
            walked.add(p)
            p = codes[p].parent_id if p in codes else None
    with session.write(need_coder=False) as uow:
        uow.update("code", code_id, values)
    return uow.changed


def merge_codes(session: Session, source_id: str, target_id: str) -> rec.Changed:
    """Fold one code into another: its codings move over and the decision is kept as data."""
    if source_id == target_id:
        raise ValidationError(tr("Choose two different codes to merge."))
    store = session.store
    with session.write(need_coder=False) as uow:
        for link_type, own, _owner in CODE_LINKS:
            for row in store.links(link_type, code_id=source_id):
                uow.link(link_type, **{own: row[own], "code_id": target_id})
                uow.unlink(link_type, **{own: row[own], "code_id": source_id})
        for child in store.list("code", parent_id=source_id):
            uow.update("code", child.id, {"parent_id": target_id})
        uow.update("code", source_id, {"merged_into": target_id})
        uow.delete("code", source_id)
    return uow.changed


def delete_code(session: Session, code_id: str) -> rec.Changed:
    with session.write(need_coder=False) as uow:
        uow.delete("code", code_id)
    return uow.changed


def seed_codebook(session: Session, book: dict[str, Any]) -> rec.Changed:
    """Create the codes of a codebook (nested ``codes`` with ``children``)."""
    colors = book.get("colors", {})
    order = [0]

    with session.write(need_coder=False) as uow:
        def walk(items: list[dict[str, Any]], parent: str | None) -> None:
            for item in items:
                order[0] += 1
                kind = item.get("kind", "other")
                cid = uow.create("code", {
                    "name": item["name"], "kind": kind, "parent_id": parent,
                    "definition": item.get("definition"), "color": colors.get(kind),
                    "sort_order": order[0], "created_by": session.coder_id})
                walk(item.get("children", []), cid)

        walk(book.get("codes", []), None)
    return uow.changed


def add_theory(session: Session, label: str, statement: str, version: str = "v1",
               status: str = "initial") -> tuple[str, rec.Changed]:
    if not (label or "").strip():
        raise ValidationError(tr("A programme theory needs a short label."))
    with session.write(need_coder=False) as uow:
        tid = uow.create("theory", {"label": label.strip(), "statement": statement,
                                    "version": version, "status": status})
    return tid, uow.changed


# -- consensus, assignments and conflicts --------------------------------------------------


def source_cmocs(session: Session, cmoc_ids: Iterable[str]) -> list[rec.Cmoc]:
    """The coders' CMOCs a consensus is made from. Refused when any was deleted since they were
    chosen (on another laptop, or by an undo): a consensus resting on fewer sources than the
    team chose would claim an agreement nobody reached."""
    sources = []
    for cmoc_id in cmoc_ids:
        cmoc = session.store.get("cmoc", cmoc_id)
        if cmoc is None:
            raise ValidationError(tr(
                "A CMOC chosen for this consensus no longer exists: it was deleted, perhaps on "
                "another laptop. Nothing was saved; look at the study's CMOCs again and choose "
                "again."))
        sources.append(cmoc)
    return sources


def create_consensus(
    session: Session,
    study_id: str,
    values: dict[str, Any],
    source_ids: Iterable[str] = (),
    resolution: str = rec.Resolution.AGREED.value,
    note: str | None = None,
    code_ids: Iterable[str] | None = None,
    excerpt_ids: Iterable[str] | None = None,
) -> tuple[str, rec.Changed]:
    """A consensus CMOC with its own wording, made from coders' CMOCs."""
    session.require_coder()
    if resolution not in {r.value for r in rec.Resolution}:
        raise ValidationError("Resolution must be agreed, merged, a, b or unresolved.")
    values = {k: v for k, v in _check_slots(values).items() if k in CMOC_SLOTS}
    sources = source_cmocs(session, source_ids)
    if code_ids is None:
        code_ids = sorted({c for s in sources for c in s.code_ids})
    if excerpt_ids is None:
        excerpt_ids = sorted({e for s in sources for e in s.excerpt_ids})
    n = session.store.count("consensus", study_id=study_id)
    with session.write() as uow:
        cid = uow.create("consensus", {**values, "study_id": study_id, "resolution": resolution,
                                       "note": note, "reconciled_by": session.coder_id,
                                       "sort_order": n + 1})
        for s in sources:
            uow.link("consensus_source", consensus_id=cid, cmoc_id=s.id)
            uow.update("cmoc", s.id, {"status": CmocStatus.RECONCILED.value})
        for c in code_ids:
            uow.link("consensus_code", consensus_id=cid, code_id=c)
        for e in excerpt_ids:
            uow.link("consensus_excerpt", consensus_id=cid, excerpt_id=e)
    return cid, uow.changed


def status_before_reconciled(session: Session, cmoc_id: str) -> str | None:
    """The status a CMOC had before it was marked reconciled, read from the change log (None
    when it had none, or when the log does not say: several writers at once)."""
    writes = [c for c in session.store.changes_for("cmoc", cmoc_id) if c.field == "status"]
    replaced = {p for c in writes for p in c.parents}
    by_id = {c.change_id: c for c in writes}
    heads = [c for c in writes if c.change_id not in replaced
             and c.value == CmocStatus.RECONCILED.value]
    earlier = {by_id[p].value for h in heads for p in h.parents if p in by_id}
    earlier.discard(CmocStatus.RECONCILED.value)
    return earlier.pop() if len(earlier) == 1 else None


def withdraw_consensus(session: Session, consensus_id: str,
                       statuses: Mapping[str, str | None] | None = None) -> rec.Changed:
    """Take a consensus CMOC back (a team's second thoughts, or the undo of reconciling): it is
    deleted, as every deletion, with its history kept, and each source CMOC no other consensus
    rests on goes back to the status it had (``statuses``: CMOC id -> status before the
    consensus was made; by default read from the change log)."""
    item = session.store.get("consensus", consensus_id)
    if item is None:
        raise ValidationError(tr("That CMOC no longer exists."))
    still_used = {s for c in session.store.list("consensus", study_id=item.study_id)
                  if c.id != consensus_id for s in c.source_ids}
    with session.write() as uow:
        uow.delete("consensus", consensus_id)
        for source_id in item.source_ids:
            cmoc = session.store.get("cmoc", source_id)
            if (cmoc is not None and source_id not in still_used
                    and cmoc.status == CmocStatus.RECONCILED.value):
                status = (statuses.get(source_id) if statuses is not None
                          else status_before_reconciled(session, source_id))
                uow.update("cmoc", source_id, {"status": status})
    return uow.changed


def restore_consensus(session: Session, consensus_id: str) -> rec.Changed:
    """Bring a withdrawn consensus CMOC back (redo); refused when a source was deleted since."""
    item = session.store.get("consensus", consensus_id, include_deleted=True)
    if item is None:
        raise ValidationError(tr("That CMOC no longer exists."))
    sources = source_cmocs(session, item.source_ids)
    with session.write() as uow:
        uow.restore("consensus", consensus_id)
        for s in sources:
            uow.update("cmoc", s.id, {"status": CmocStatus.RECONCILED.value})
    return uow.changed


def put_back(session: Session, cmoc_id: str, status: str | None,
             reason: str | None) -> rec.Changed:
    """A CMOC set aside goes back to the status (and reason) it had: the undo of setting aside."""
    if session.store.get("cmoc", cmoc_id) is None:
        raise ValidationError(tr("That CMOC no longer exists."))
    with session.write() as uow:
        uow.update("cmoc", cmoc_id, {"status": status, "set_aside_reason": reason})
    return uow.changed


def update_consensus(session: Session, consensus_id: str, values: dict[str, Any]) -> rec.Changed:
    allowed = set(CMOC_SLOTS) | {"resolution", "note"}
    bad = set(values) - allowed
    if bad:
        raise ValidationError(f"A consensus CMOC has no {sorted(bad)}.")
    with session.write() as uow:
        uow.update("consensus", consensus_id, values)
    return uow.changed


def assign(session: Session, study_id: str, coder_ids: Iterable[str]) -> rec.Changed:
    """Add coders to a study. A coder already on it keeps where they are (a submission is not
    taken back by assigning them again: reopening is its own step)."""
    held = {a["coder_id"] for a in session.store.links("assignment", study_id=study_id)}
    with session.write(need_coder=False) as uow:
        for cid in coder_ids:
            if cid in held:
                continue
            uow.link("assignment", study_id=study_id, coder_id=cid,
                     status=AssignmentStatus.ASSIGNED.value)
    return uow.changed


def submit_study(session: Session, study_id: str) -> rec.Changed:
    """The coder hands in a study: their CMOCs become submitted and their coding is locked."""
    coder = session.require_coder()
    with session.write() as uow:
        uow.link("assignment", study_id=study_id, coder_id=coder,
                 status=AssignmentStatus.SUBMITTED.value)
        for cmoc in session.store.list("cmoc", study_id=study_id, owner_id=coder):
            if cmoc.status in (None, CmocStatus.DRAFT.value):
                uow.update("cmoc", cmoc.id, {"status": CmocStatus.SUBMITTED.value})
    return uow.changed


def reopen_study(session: Session, study_id: str, coder_id: str) -> rec.Changed:
    with session.write() as uow:
        uow.link("assignment", study_id=study_id, coder_id=coder_id,
                 status=AssignmentStatus.DRAFT.value)
    return uow.changed


def study_status(session: Session, study_id: str) -> dict[str, str]:
    """Per coder: 'submitted', 'draft' (has coding), or 'assigned'."""
    status: dict[str, str] = {}
    for a in session.store.links("assignment", study_id=study_id):
        status[a["coder_id"]] = a["status"] or AssignmentStatus.ASSIGNED.value
    for ex in session.store.list("excerpt", study_id=study_id, columns=("owner_id",)):
        if ex.owner_id and status.get(ex.owner_id) in (None, AssignmentStatus.ASSIGNED.value):
            status[ex.owner_id] = AssignmentStatus.DRAFT.value
    return status


def resolve_conflict(session: Session, entity_type: str, entity_id: str, field: str,
                     value: Any) -> rec.Changed:
    """Write one value that supersedes every value in conflict."""
    etype = as_entity_type(entity_type)
    with session.write(need_coder=False) as uow:
        uow.resolve(etype, entity_id, field, value)
    return uow.changed
