"""Undo and redo live in the services: a coder's changes are taken back and made again without Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.services.undo import UndoableCoding, UndoStack

from .conftest import study_id


def _coding(session: Session) -> tuple[UndoableCoding, UndoStack, list[str]]:
    reported: list[str] = []
    stack = UndoStack()
    return UndoableCoding(session, stack, reported.append), stack, reported


def test_undo_and_redo_a_passage_and_a_cmoc_edit_without_qt(base_project: Path) -> None:
    with Session.open(base_project, coder="Coordinator") as s:
        actions, stack, reported = _coding(s)
        doc = next(d for d in s.store.list("document") if d.study_id == study_id(s, "Ahmed 2019"))
        eid = actions.add_excerpt(doc.id, 0, 17, "context")
        assert eid is not None and s.store.get("excerpt", eid).quote == doc.text[:17]
        cid = actions.create_cmoc(doc.study_id, [eid])
        assert cid is not None
        assert actions.update_cmoc(cid, "outcome", None, "More clients tested")
        assert stack.undo_text() == "Edit CMOC" and stack.count() == 3

        assert stack.undo()
        assert s.store.get("cmoc", cid).outcome is None
        assert stack.undo() and stack.undo()
        assert s.store.get("cmoc", cid) is None and s.store.get("excerpt", eid) is None
        assert not stack.can_undo() and not stack.undo()

        assert stack.redo() and stack.redo() and stack.redo()
        cmoc = s.store.get("cmoc", cid)
        assert cmoc.outcome == "More clients tested" and eid in cmoc.excerpt_ids
        assert not stack.can_redo() and reported == []


def test_a_new_change_forgets_what_could_be_redone(base_project: Path) -> None:
    with Session.open(base_project, coder="Coordinator") as s:
        actions, stack, _ = _coding(s)
        cid = actions.create_cmoc(study_id(s, "Ahmed 2019"))
        assert cid is not None
        actions.update_cmoc(cid, "context", None, "Night shelter")
        stack.undo()
        actions.update_cmoc(cid, "context", None, "Drop-in centre")
        assert not stack.can_redo()
        stack.undo()
        assert s.store.get("cmoc", cid).context is None
        stack.redo()
        assert s.store.get("cmoc", cid).context == "Drop-in centre"


def test_an_undo_the_project_refuses_is_reported_and_dropped(base_project: Path) -> None:
    with Session.open(base_project, coder="Coordinator") as s:
        actions, stack, reported = _coding(s)
        sid = study_id(s, "Ahmed 2019")
        cid = actions.create_cmoc(sid)
        assert cid is not None
        actions.update_cmoc(cid, "context", None, "Night shelter")
        coding.submit_study(s, sid)  # the study is now locked for this coder
        assert not stack.undo()
        assert len(reported) == 1 and "submitted" in reported[0].lower()
        assert s.store.get("cmoc", cid).context == "Night shelter"
        assert stack.count() == 1 and stack.undo_text() == "New CMOC"


def test_a_refused_change_is_reported_and_not_put_on_the_stack(base_project: Path) -> None:
    with Session.open(base_project, coder="Coordinator") as s:
        actions, stack, reported = _coding(s)
        assert actions.create_cmoc("no-such-study") is None
        assert reported and stack.count() == 0


def test_undo_needs_no_qt() -> None:
    code = ("import sys, cmo_desk.services.undo; "
            "print(any(m.startswith('PySide6') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
