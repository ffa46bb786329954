"""A unit of work of any size holds a bounded number of changes in memory: it writes them into its
still-open transaction as it goes, and the result is exactly what one write at the end gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.ids import new_id
from cmo_desk.services.session import Session
from cmo_desk.store import unit_of_work

OPS = st.lists(st.tuples(st.sampled_from(["create", "edit", "delete", "restore", "link"]),
                         st.integers(0, 4), st.text("abc xyz", max_size=5)), max_size=40)


def _run(path: Path, ops: list[tuple[str, int, str]], ids: list[str]) -> tuple[str, object]:
    with Session.create(path, coder="Ana", project_id="0" * 8 + "-0000-4000-8000-" + "0" * 12) as s:
        with s.write() as uow:
            made: set[int] = set()
            for op, n, value in ops:
                sid = ids[n]
                if op == "create" and n not in made:
                    uow.create("study", {"label": value or "s", "title": value}, id=sid)
                    made.add(n)
                elif n not in made:
                    continue
                elif op == "edit":
                    try:
                        uow.update("study", sid, {"title": value})
                    except ValidationError:  # a deleted record is not edited: the same either way
                        pass
                elif op == "delete":
                    uow.delete("study", sid)
                elif op == "restore":
                    uow.restore("study", sid)
                elif op == "link":
                    uow.link("form_value", study_id=sid, coder_id=s.coder_id, key="k",
                             value=value)
        changed = uow.changed
        return s.store.dump_json(), (sorted((t, sorted(v)) for t, v in changed.entities.items()),
                                     changed.change_count)


@settings(max_examples=25, deadline=None)
@given(ops=OPS)
def test_flushing_as_it_goes_gives_what_one_write_at_the_end_gives(ops, tmp_path_factory) -> None:
    ids = [new_id() for _ in range(5)]
    whole = _run(tmp_path_factory.mktemp("whole") / "review.cmo", ops, ids)
    saved = unit_of_work.FLUSH_EVERY
    unit_of_work.FLUSH_EVERY = 2
    try:
        flushed = _run(tmp_path_factory.mktemp("flushed") / "review.cmo", ops, ids)
    finally:
        unit_of_work.FLUSH_EVERY = saved
    # the same visible state and the same Changed (the clocks differ: compare without the log ids)
    assert whole[0] == flushed[0]
    assert whole[1] == flushed[1]
    created = {ids[n] for op, n, _ in ops if op == "create"}
    named = dict(flushed[1][0])
    assert set(named.get("study", ())) == created  # the Changed names every record written


def test_a_failed_unit_of_work_leaves_nothing_even_after_flushing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    monkeypatch.setattr(unit_of_work, "FLUSH_EVERY", 3)
    with Session.create(tmp_path / "p.cmo", coder="Ana") as s:
        before, changes = s.store.dump_json(), s.store.change_count()
        with pytest.raises(RuntimeError):
            with s.write() as uow:
                for i in range(10):
                    uow.create("study", {"label": f"S{i}"})
                raise RuntimeError("power cut in the middle")
        assert s.store.dump_json() == before and s.store.change_count() == changes
