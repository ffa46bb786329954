"""Syncing with a PostgreSQL hub is merging: any order gives what a file merge gives, a sync cut
off anywhere resumes without loss or duplicates, and the hub refuses changes a role may not make."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cmo_desk.domain.errors import HubError
from cmo_desk.domain.ids import coder_id
from cmo_desk.services import coding
from cmo_desk.services.hub import add_member, init_hub, sync
from cmo_desk.services.session import Session
from cmo_desk.store import hub as hub_store
from cmo_desk.store.merging import merge_file

from .conftest import PgServer

CODERS = {"cora": "Cora Mwangi", "lan": "Lan Nguyen", "sam": "Sam Okafor"}


@contextmanager
def laptop(tmp: Path, who: str) -> Iterator[None]:
    """Each person works on their own laptop: their own config folder, so their own site id."""
    old = os.environ.get("CMO_DESK_CONFIG_DIR")
    os.environ["CMO_DESK_CONFIG_DIR"] = str(tmp / f"{who}-laptop")
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("CMO_DESK_CONFIG_DIR", None)
        else:
            os.environ["CMO_DESK_CONFIG_DIR"] = old


@pytest.fixture
def team(pg_server: PgServer, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, object]:
    """A coordinator's project registered on a fresh hub; each coder has a copy and a role."""
    db = pg_server.fresh_database("hub_" + request.node.name[:40].lower().replace("[", "_")
                                  .replace("]", "").replace("-", "_"))
    for role in CODERS:
        pg_server.sql(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object "
                      f"THEN NULL; END $$", database="postgres")
    main = tmp_path / "cora.cmo"
    with laptop(tmp_path, "cora"), Session.create(main, coder=CODERS["cora"],
                                                  title="Peer review") as s:
        coding.add_study(s, {"label": "Hanoi 2019", "title": "Peer navigators"})
        coding.add_study(s, {"label": "Nairobi 2021", "title": "Outreach vans"})
    url = pg_server.url(database=db)
    init_hub(url, main, None, "cora", CODERS["cora"])
    for role in ("lan", "sam"):
        add_member(url, main, None, role, CODERS[role], False)
        shutil.copy(main, tmp_path / f"{role}.cmo")
    return {"url": lambda role: pg_server.url(role, db), "tmp": tmp_path, "db": db}


def _work(tmp: Path, who: str, label_edit: str) -> None:
    with laptop(tmp, who), Session.open(tmp / f"{who}.cmo", coder=CODERS[who]) as s:
        study = next(x for x in s.store.list("study") if x.label == "Hanoi 2019")
        cid, _ = coding.create_cmoc(s, study.id, {"context": f"{who}'s context",
                                                  "outcome": "more people tested"})
        coding.update_cmoc(s, cid, {"memo": label_edit})
        coding.set_form_value(s, study.id, "country", f"Viet Nam ({who})")


def _sync(team: dict[str, object], who: str) -> object:
    tmp: Path = team["tmp"]  # type: ignore[assignment]
    with laptop(tmp, who), Session.open(tmp / f"{who}.cmo", coder=CODERS[who]) as s:
        return sync(s, team["url"](who))  # type: ignore[operator]


def _dump(path: Path) -> str:
    with Session.open(path, read_only=True) as s:
        return s.store.dump_json()


def test_any_sync_order_gives_what_a_file_merge_gives(team: dict[str, object]) -> None:
    tmp: Path = team["tmp"]  # type: ignore[assignment]
    _work(tmp, "lan", "first pass")
    _work(tmp, "sam", "second look")
    with laptop(tmp, "cora"), Session.open(tmp / "cora.cmo", coder=CODERS["cora"]) as s:
        coding.add_code(s, "Stigma", "context")
    # what the coordinator would get by USB stick
    files = tmp / "by-usb.cmo"
    shutil.copy(tmp / "cora.cmo", files)
    with laptop(tmp, "cora"), Session.open(files, coder=CODERS["cora"]) as s:
        for who in ("lan", "sam"):
            merge_file(s.store, tmp / f"{who}.cmo")

    first = _sync(team, "sam")
    assert first.sent > 0 and first.received >= 0  # type: ignore[attr-defined]
    _sync(team, "cora")
    _sync(team, "lan")
    _sync(team, "sam")
    _sync(team, "cora")
    expected = _dump(files)
    for who in ("cora", "lan", "sam"):
        assert _dump(tmp / f"{who}.cmo") == expected, who
    again = _sync(team, "lan")
    assert again.sent == 0 and again.received == 0  # type: ignore[attr-defined]


def test_a_sync_cut_off_resumes_without_loss_or_duplicates(
        team: dict[str, object], pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp: Path = team["tmp"]  # type: ignore[assignment]
    _work(tmp, "lan", "first pass")
    monkeypatch.setattr(hub_store, "BATCH", 4)
    calls = {"n": 0}

    def cable_pulled(done: int, total: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("cable pulled")

    with laptop(tmp, "cora"), Session.open(tmp / "cora.cmo", coder=CODERS["cora"]) as s:
        with pytest.raises(ConnectionError):
            sync(s, team["url"]("cora"), progress=cable_pulled)  # type: ignore[operator]
        pushed = int(s.store.meta_value(f"hub:{team['url']('cora')}:pushed_rowid") or 0)  # type: ignore[operator]
        assert pushed > 0  # two batches went before the cut
        report = sync(s, team["url"]("cora"))  # type: ignore[operator]
        assert report.sent > 0
        local = s.store.change_count()
    import psycopg

    with psycopg.connect(team["url"]("cora").replace("postgresql://", "postgresql://")) as conn:  # type: ignore[operator]
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT change_id) FROM cmo_hub.change").fetchone()
    assert total == distinct == local
    # and a pull cut off before it merged is fetched again next time
    calls["n"] = 0
    with laptop(tmp, "lan"), Session.open(tmp / "lan.cmo", coder=CODERS["lan"]) as s:
        with pytest.raises(ConnectionError):
            sync(s, team["url"]("lan"), progress=cable_pulled)  # type: ignore[operator]
    _sync(team, "lan")
    _sync(team, "cora")
    assert _dump(tmp / "lan.cmo") == _dump(tmp / "cora.cmo")


def test_the_hub_refuses_changes_a_role_may_not_make(team: dict[str, object]) -> None:
    import psycopg

    tmp: Path = team["tmp"]  # type: ignore[assignment]
    _sync(team, "cora")
    sam = coder_id(CODERS["sam"])
    with psycopg.connect(team["url"]("lan")) as conn:  # type: ignore[operator]
        project_id = conn.execute("SELECT project_id FROM cmo_hub.project").fetchone()[0]
        for coder, etype in ((sam, "cmoc"), (coder_id(CODERS["lan"]), "code")):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO cmo_hub.change (project_id, change_id, entity_type, "
                        "entity_id, field, value, wall, counter, site_id, coder_id, parents, seen)"
                        " VALUES (%s, %s, %s, 'x', 'memo', '\"forged\"', 1, 0, 's', %s, '[]', '[]')",
                        (project_id, "f" * 64 + etype, etype, coder))
    # Sam's work that reached Lan's laptop by USB is not sent in Sam's name from Lan's laptop
    _work(tmp, "sam", "sam's own")
    with laptop(tmp, "lan"), Session.open(tmp / "lan.cmo", coder=CODERS["lan"]) as s:
        merge_file(s.store, tmp / "sam.cmo")
        report = sync(s, team["url"]("lan"))  # type: ignore[operator]
    assert report.not_ours > 0


def test_a_tampered_change_on_the_hub_is_not_merged(team: dict[str, object],
                                                    pg_server: PgServer) -> None:
    tmp: Path = team["tmp"]  # type: ignore[assignment]
    _work(tmp, "lan", "honest memo")
    _sync(team, "lan")
    pg_server.sql("UPDATE cmo_hub.change SET value = '\"forged memo\"' WHERE field = 'memo'",
                  database=team["db"])  # type: ignore[arg-type]
    report = _sync(team, "sam")
    with Session.open(tmp / "sam.cmo", read_only=True) as s:
        memos = [c.memo for c in s.store.list("cmoc")]
    assert "forged memo" not in memos
    assert "honest memo" not in memos  # left out whole, not half-applied
    assert report.refused >= 1  # type: ignore[attr-defined]  # the whole record is held back
    assert "failed verification" in report.summary()  # type: ignore[attr-defined]


def test_a_damaged_change_in_ones_own_file_is_not_sent_and_is_named(
        team: dict[str, object]) -> None:
    """One change of Lan's file altered by another program and one made unreadable: the sync
    sends the rest, says what it left out and why, and the hub never hands them to anyone."""
    import sqlite3

    from tests.logrows import alter, name_number

    tmp: Path = team["tmp"]  # type: ignore[assignment]
    _work(tmp, "lan", "honest memo")
    con = sqlite3.connect(tmp / "lan.cmo")
    alter(con, "UPDATE log SET value = '\"forged memo\"' WHERE field = ?",
          (name_number(con, "memo"),))
    # the outcome's change (alone) is of a record whose id is two bytes, which no id is stored
    # as: a new record of the same type, for the log numbers its records
    alter(con, "INSERT INTO log_records (type, id) SELECT r.type, x'0102' FROM log c "
               "JOIN log_records r ON r.n = c.entity WHERE c.field = ? LIMIT 1",
          (name_number(con, "outcome"),))
    alter(con, "UPDATE log SET entity = (SELECT n FROM log_records WHERE id = x'0102') "
               "WHERE field = ?", (name_number(con, "outcome"),))
    con.commit()
    con.close()
    report = _sync(team, "lan")
    assert report.unsound == 2  # type: ignore[attr-defined]
    assert report.sent > 0  # type: ignore[attr-defined]
    assert "2 changes in this project's file could not be read or do not match their ids" \
        in report.summary()  # type: ignore[attr-defined]
    _sync(team, "sam")
    with Session.open(tmp / "sam.cmo", read_only=True) as s:
        cmocs = s.store.list("cmoc")
        assert [c.context for c in cmocs] == ["lan's context"]  # the sound part arrived
        assert cmocs[0].memo is None and cmocs[0].outcome is None


def test_an_unreachable_hub_is_one_line_and_loses_nothing(team: dict[str, object],
                                                          tmp_path: Path) -> None:
    project = tmp_path / "lan.cmo"
    with laptop(tmp_path, "lan"):
        env = {**os.environ, "CMO_DESK_CODER": CODERS["lan"]}
        before = _dump(project)
        out = subprocess.run([sys.executable, "-m", "cmo_desk", "sync", str(project),
                              "postgresql://lan@127.0.0.1:1/nowhere"],
                             capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert out.stderr.count("\n") == 1 and "cannot be reached" in out.stderr
    assert "Traceback" not in out.stderr
    assert _dump(project) == before
    with laptop(tmp_path, "lan"), Session.open(project, coder=CODERS["lan"]) as s:
        with pytest.raises(HubError, match="no hub yet"):
            sync(s)


def test_ten_laptops_syncing_at_once_converge(pg_server: PgServer, tmp_path: Path) -> None:
    db = pg_server.fresh_database("hub_ten")
    url = pg_server.url(database=db)
    main = tmp_path / "coordinator.cmo"
    with laptop(tmp_path, "coordinator"), Session.create(main, coder="Cora Mwangi") as s:
        study_id, _ = coding.add_study(s, {"label": "Kyiv 2020"})
    pg_server.sql("DO $$ BEGIN CREATE ROLE cora LOGIN; EXCEPTION WHEN duplicate_object THEN "
                  "NULL; END $$", database="postgres")
    init_hub(url, main, None, "cora", "Cora Mwangi")
    with laptop(tmp_path, "coordinator"), Session.open(main, coder="Cora Mwangi") as s:
        sync(s, pg_server.url("cora", db))
    people = [f"coder{i}" for i in range(10)]
    for role in people:
        pg_server.sql(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object "
                      f"THEN NULL; END $$", database="postgres")
        add_member(url, main, None, role, role.title(), False)
        shutil.copy(main, tmp_path / f"{role}.cmo")
        with laptop(tmp_path, role), Session.open(tmp_path / f"{role}.cmo",
                                                  coder=role.title()) as s:
            for n in range(3):
                coding.create_cmoc(s, study_id, {"context": f"{role} context {n}"})
    procs = [subprocess.Popen(
        [sys.executable, "-m", "cmo_desk", "sync", str(tmp_path / f"{role}.cmo"),
         pg_server.url(role, db), "--coder", role.title()],
        env={**os.environ, "CMO_DESK_CONFIG_DIR": str(tmp_path / f"{role}-laptop")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for role in people]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()
    for role in people:  # a second round brings everyone what the others sent meanwhile
        with laptop(tmp_path, role), Session.open(tmp_path / f"{role}.cmo",
                                                  coder=role.title()) as s:
            sync(s)
    dumps = {_dump(tmp_path / f"{role}.cmo") for role in people}
    assert len(dumps) == 1
    with Session.open(tmp_path / "coder0.cmo", read_only=True) as s:
        assert len(s.store.list("cmoc")) == 30
