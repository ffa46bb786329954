"""``cmo-desk info`` reads the file with sqlite3 alone: the same summary, the same refusals, a
fraction of the start-up."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.services import coding
from cmo_desk.services.projects import project_info
from cmo_desk.services.session import Session
from cmo_desk.store.fileinfo import read_info
from cmo_desk.store import project_store
from cmo_desk.store.project_store import ProjectStore
from tests.logrows import downgrade

RELEASED = Path(__file__).resolve().parents[1] / "store" / "released"


def opened_info(path: Path) -> dict:
    with ProjectStore.open(path, read_only=True) as store:
        return store.info()


def counted_by_the_store(path: Path) -> dict:
    """The summary counted record by record through the opened store's own queries."""
    with ProjectStore.open(path, read_only=True) as store:
        counts = {key: store.count(table) for key, table in (
            ("studies", "study"), ("documents", "document"), ("excerpts", "excerpt"),
            ("cmocs", "cmoc"), ("consensus_cmocs", "consensus"), ("codes", "code"),
            ("theories", "theory"), ("review_cmocs", "review_cmoc"),
            ("theory_versions", "theory_version"))}
        return {"project_id": store.project_id, "title": store.project().title,
                "schema_version": project_store.HEAD_REVISION,
                "format_version": project_store.FORMAT_VERSION, **counts,
                "coders": [c.name for c in store.list("coder")],
                "conflicts": store.conflict_count(), "changes": store.change_count()}


def laptop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    folder = tmp_path / f"config-{name}"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(folder))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cmo_desk", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def ugly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Emoji and CJK names, coders whose names sort by case, deleted records, a conflict."""
    laptop(monkeypatch, tmp_path, "one")
    path = tmp_path / "revue 🧪.cmo"
    with Session.create(path, coder="Zoë 👩🏽‍⚕️", title="Revue 🧪 des pairs — 同伴教育") as s:
        for label in ("Ahmed 2019", "阮 2020", "Brown 2021", "Gone 2018"):
            sid, _ = coding.add_study(s, {"label": label, "title": label + " 📄"})
        with s.write() as uow:
            uow.delete("study", sid)
            gone = uow.create("code", {"name": "to remove", "kind": "context"})
        with s.write() as uow:
            uow.delete("code", gone)
    for name in ("ana", "Émile", "Bo 阮"):
        with Session.open(path, coder=name) as s:
            s.ensure_coder()
    with Session.open(path, coder="Bo 阮") as s, s.write() as uow:
        uow.delete("coder", s.coder_id)
    other = tmp_path / "other.cmo"
    shutil.copy2(path, other)
    with Session.open(path, coder="ana") as s:
        sid = next(st.id for st in s.store.list("study") if st.label == "Ahmed 2019")
        coding.update_study(s, sid, {"title": "one title"})
    laptop(monkeypatch, tmp_path, "two")
    with Session.open(other, coder="ana") as s:
        coding.update_study(s, sid, {"title": "another title"})
    assert run(["merge", str(path), str(other)]) == 0
    return path


def test_the_summary_is_the_one_an_opened_project_gives(ugly: Path) -> None:
    before = ugly.read_bytes()
    info = read_info(ugly)
    assert info == opened_info(ugly) == counted_by_the_store(ugly)
    assert info is not None and info["conflicts"] >= 1 and info["studies"] == 3
    assert info["title"] == "Revue 🧪 des pairs — 同伴教育"
    assert info["coders"] == ["Zoë 👩🏽\u200d⚕️", "ana", "Émile"]  # by code point; Bo deleted
    assert ugly.read_bytes() == before


def test_the_command_prints_it_without_loading_the_database_library(ugly: Path) -> None:
    code = ("import json, sys\n"
            "from cmo_desk.__main__ import main\n"
            f"code = main(['info', {str(ugly)!r}, '--json'])\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sqlalchemy', 'alembic', 'mako', 'pandas'})))\n"
            "sys.exit(code)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    *printed, loaded = out.stdout.strip().splitlines()
    assert json.loads(loaded) == []
    assert json.loads("\n".join(printed)) == json.loads(json.dumps(opened_info(ugly)))


def test_a_copy_taken_while_the_project_was_open_counts_the_changes_waiting_beside_it(
        tmp_path: Path) -> None:
    path = tmp_path / "open.cmo"
    with Session.create(path, coder="Lan", title="Open"):
        pass
    with Session.open(path, coder="Lan") as s:
        reader = sqlite3.connect(path)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM study").fetchone()  # holds an older snapshot
        coding.add_study(s, {"label": "Saved while copied"})
        copy = tmp_path / "copy" / "open.cmo"
        copy.parent.mkdir()
        shutil.copy2(path, copy)
        shutil.copy2(str(path) + "-wal", str(copy) + "-wal")
        reader.rollback()
        reader.close()
    assert Path(str(copy) + "-wal").stat().st_size > 0
    info = read_info(copy)
    assert info is not None and info["studies"] == 1
    assert info == counted_by_the_store(copy)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _sql(path: Path, *statements: str) -> None:
    con = sqlite3.connect(path)
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()


def _newer_format(path: Path) -> None:
    _sql(path, "UPDATE meta SET value = '99' WHERE key = 'format_version'",
         "UPDATE meta SET value = '9.9' WHERE key = 'app_version'")


def _newer_layout(path: Path) -> None:
    _sql(path, "UPDATE alembic_version SET version_num = '0999'")


def _no_project(path: Path) -> None:
    path.unlink()
    _sql(path, "CREATE TABLE notes (body TEXT)")


def _scribbled_meta(path: Path) -> None:
    _sql(path, "DELETE FROM meta WHERE key = 'project_id'")


def _not_sqlite(path: Path) -> None:
    path.write_text("title,year\nAhmed,2019\n", encoding="utf-8")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("spoil", [_truncated, _newer_format, _newer_layout, _no_project,
                                   _scribbled_meta, _not_sqlite, _empty],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_file_opening_refuses_is_refused_in_the_same_words(
        demo_path: Path, spoil: object) -> None:
    spoil(demo_path)  # type: ignore[operator]
    before = demo_path.read_bytes()
    with pytest.raises(CmoDeskError) as opened:
        opened_info(demo_path)
    with pytest.raises(CmoDeskError) as read:
        read_info(demo_path)
    assert str(read.value) == str(opened.value)
    assert type(read.value) is type(opened.value)
    result = cli("info", str(demo_path))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0] == f"cmo-desk: {opened.value}"
    assert demo_path.read_bytes() == before


def test_a_file_another_program_holds_says_so_in_one_line(demo_path: Path) -> None:
    holder = sqlite3.connect(demo_path, timeout=0)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = cli("info", str(demo_path))
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "busy in another program" in lines[0] or "locked" in lines[0]


@pytest.mark.skipif(not RELEASED.is_dir(), reason="no released project files")
@pytest.mark.parametrize("released", sorted(RELEASED.glob("demo-schema-*.cmo")),
                         ids=lambda p: p.stem)
def test_an_older_file_is_summarised_as_before_and_left_unchanged(
        released: Path, tmp_path: Path) -> None:
    path = tmp_path / "old.cmo"
    shutil.copy2(released, path)
    before = path.read_bytes()
    assert read_info(path) is None  # read through an upgraded copy, as opening does
    assert project_info(path) == counted_by_the_store(path)
    assert path.read_bytes() == before


def test_a_bad_coder_name_is_refused_as_by_every_command(demo_path: Path) -> None:
    env = {**os.environ, "CMO_DESK_CODER": "   "}
    result = subprocess.run([sys.executable, "-m", "cmo_desk", "info", str(demo_path)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode != 0 and "coder name is empty" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("layout", ["0005", "0004"])
def test_an_older_layout_is_summarised_as_it_is_without_an_upgrade(
        ugly: Path, tmp_path: Path, layout: str) -> None:
    """A project last saved by an older version is counted in place (the upgrade changes only
    how the log is stored), the file untouched, and the counts are those of the upgraded copy."""
    downgrade(ugly, layout)
    before = ugly.read_bytes()
    info = read_info(ugly)
    assert info is not None and info["schema_version"] == layout
    assert ugly.read_bytes() == before
    upgraded = tmp_path / "upgraded.cmo"
    shutil.copy2(ugly, upgraded)
    expected = opened_info(upgraded)
    assert expected["schema_version"] == project_store.HEAD_REVISION
    assert info == {**expected, "schema_version": layout}
