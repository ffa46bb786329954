"""The project file: creation, reopening, refusal of wrong files, rebuild from the log."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from cmo_desk.domain.errors import DamagedProjectError, NewerProjectError, ProjectError
from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.store.project_store import ProjectStore
from cmo_desk.store.site import Site


def test_rebuild_from_log_equals_current_state(demo_path: Path) -> None:
    with ProjectStore.open(demo_path) as store:
        before = store.dump_json()
        assert store.rebuild() > 50
        assert store.dump_json() == before


def test_dump_is_identical_across_runs_and_has_no_local_data(demo_path: Path) -> None:
    with ProjectStore.open(demo_path) as store:
        first = store.dump_json()
        site = store.site.site_id
    with ProjectStore.open(demo_path) as store:
        assert store.dump_json() == first
    assert site not in first and str(demo_path) not in first


def test_edits_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "p.cmo"
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Booth 2016"})
        cid, changed = coding.create_cmoc(s, sid, {"context": "criminalisation"})
        assert cid in changed.touched("cmoc")
        coding.update_cmoc(s, cid, {"mechanism_reasoning": "trust"})
    with Session.open(path, coder="Ana") as s:
        cmoc = s.store.get("cmoc", cid)
        assert (cmoc.context, cmoc.mechanism_reasoning, cmoc.status) == (
            "criminalisation", "trust", "draft")
        assert s.store.get("coder", cmoc.owner_id).name == "Ana"


def test_every_slot_may_stay_empty(tmp_path: Path) -> None:
    with Session.create(tmp_path / "p.cmo", coder="Ana") as s:
        sid, _ = coding.add_study(s, {})
        cid, _ = coding.create_cmoc(s, sid)
        cmoc = s.store.get("cmoc", cid)
        assert cmoc.context is None and cmoc.outcome is None and cmoc.code_ids == ()


def test_another_coders_cmoc_cannot_be_edited(tmp_path: Path) -> None:
    with Session.create(tmp_path / "p.cmo", coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "X"})
        cid, _ = coding.create_cmoc(s, sid, {"context": "mine"})
        other = Session(s.store, "Ben")
        with pytest.raises(Exception, match="belongs to another coder"):
            coding.update_cmoc(other, cid, {"context": "stolen"})
        assert s.store.get("cmoc", cid).context == "mine"


def test_site_id_lives_outside_the_project(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "p.cmo"
    ProjectStore.create(path).close()
    laptop_a = Site.load(tmp_path / "a")
    laptop_b = Site.load(tmp_path / "b")
    assert laptop_a.site_id != laptop_b.site_id
    with ProjectStore.open(path, site=laptop_a) as s:
        with s.unit_of_work(None) as uow:
            uow.create("study", {"label": "from A"})
    copy = tmp_path / "copy.cmo"
    shutil.copy(path, copy)
    with ProjectStore.open(copy, site=laptop_b) as s:
        with s.unit_of_work(None) as uow:
            uow.create("study", {"label": "from B"})
        sites = {c.site_id for st in s.list("study") for c in s.changes_for("study", st.id)}
    assert sites == {laptop_a.site_id, laptop_b.site_id}
    assert Site.load(tmp_path / "a").site_id == laptop_a.site_id


def test_not_a_project_is_refused_plainly(tmp_path: Path) -> None:
    text = tmp_path / "notes.cmo"
    text.write_text("hello")
    with pytest.raises(DamagedProjectError, match="not a CMO Desk project"):
        ProjectStore.open(text)
    other_db = tmp_path / "other.cmo"
    sqlite3.connect(other_db).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(DamagedProjectError, match="not a CMO Desk project"):
        ProjectStore.open(other_db)
    with pytest.raises(ProjectError, match="does not exist"):
        ProjectStore.open(tmp_path / "missing.cmo")


def test_newer_project_is_refused_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "p.cmo"
    ProjectStore.create(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='99' WHERE key='format_version'")
    con.execute("UPDATE meta SET value='9.0' WHERE key='app_version'")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(NewerProjectError, match="newer"):
        ProjectStore.open(path)
    assert path.read_bytes() == before


def test_unknown_schema_revision_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.cmo"
    with Session.create(path, coder="Ana") as s:
        coding.add_study(s, {"label": "Kept 2010"})
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num='zzzz'")
    con.commit()
    con.close()
    before = path.read_bytes()
    # A revision this version does not know is refused rather than guessed at.
    with pytest.raises(NewerProjectError):
        ProjectStore.open(path)
    assert path.read_bytes() == before


def test_wal_and_foreign_keys_are_on(tmp_path: Path) -> None:
    path = tmp_path / "p.cmo"
    with ProjectStore.create(path) as store:
        with store.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_failed_unit_of_work_writes_nothing(tmp_path: Path) -> None:
    with ProjectStore.create(tmp_path / "p.cmo") as store:
        n = store.change_count()
        with pytest.raises(RuntimeError):
            with store.unit_of_work("c") as uow:
                uow.create("study", {"label": "half"})
                raise RuntimeError("power cut in the middle")
        assert store.change_count() == n and store.list("study") == []


def test_search_finds_english_chinese_and_korean(tmp_path: Path) -> None:
    with ProjectStore.create(tmp_path / "p.cmo") as store:
        with store.unit_of_work("c") as uow:
            sid = uow.create("study", {"label": "Mixed 2020"})
            text = ("Peer workers built trust with clients.\n\n同伴教育者帮助服药者坚持治疗。"
                    "\n\n동료 지원 활동가들이 신뢰를 쌓았다.")
            uow.create("document", {"study_id": sid, "text": text,
                                    "page_starts": [0, text.index("同"), text.index("동")]})
        assert [(h.study_label, h.page) for h in store.search("trust")] == [("Mixed 2020", 1)]
        assert [h.page for h in store.search("服药者")] == [2]
        hit = store.search("신뢰")
        assert [h.page for h in hit] == [3] and "[신뢰]" in hit[0].snippet
        assert store.search("absent") == []
