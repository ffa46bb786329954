"""Merging coders' copies through the command line, as a coordinator does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.domain.ids import coder_id
from cmo_desk.services import coding
from cmo_desk.services.backups import list_backups
from cmo_desk.store.backups import readable_copy
from cmo_desk.services.session import Session
from cmo_desk.store.project_store import ProjectStore

from .conftest import study_id


def dump(path: Path) -> str:
    with readable_copy(path) as plain, ProjectStore.open(plain, read_only=True) as store:
        return store.dump_json()


def merge_backups(project: Path) -> list[Path]:
    return [b.path for b in list_backups(project) if b.reason == "merge"]


def cli_dump(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert run(["dump", str(path)]) == 0
    return capsys.readouterr().out


def code(path: Path, coder: str, label: str, statement: str) -> str:
    with Session.open(path, coder=coder) as s:
        sid = study_id(s, label)
        doc = s.store.list("document", study_id=sid)[0]
        trust = next(c.id for c in s.store.list("code") if c.name == "Trust")
        ex, _ = coding.add_excerpt(s, doc.id, 0, 30, "mechanism", [trust])
        cid, _ = coding.create_cmoc(s, sid, {"statement": statement}, [ex], [trust])
    return cid


def test_merging_in_either_order_gives_identical_dumps(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    code(a, "Lan Nguyen", "Ahmed 2019", "Peers who share lived experience build trust")
    code(b, "Sam Okafor", "Ahmed 2019", "Trust in peers draws people to services")
    a2, b2 = a.with_name("a2.cmo"), b.with_name("b2.cmo")
    shutil.copy2(a, a2)
    shutil.copy2(b, b2)

    assert run(["merge", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "Sam Okafor" in out and "Sam Okafor: 1 CMOC," in out and "new conflicts: 0" in out
    assert run(["merge", str(b2), str(a2)]) == 0
    assert cli_dump(a, capsys) == cli_dump(b2, capsys)

    before = cli_dump(a, capsys)
    assert run(["merge", str(a), str(b2)]) == 0  # a third merge changes nothing
    assert "nothing new" in capsys.readouterr().out
    assert cli_dump(a, capsys) == before

    with Session.open(a) as s:
        owners = {c.owner_id for c in s.store.list("cmoc")}
    assert owners == {coder_id("Lan Nguyen"), coder_id("Sam Okafor")}


def test_merge_makes_a_backup_beside_the_project(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    code(b, "Sam Okafor", "Brown 2021", "Outreach builds trust")
    before = dump(a)
    assert run(["merge", str(a), str(b)]) == 0
    (backup,) = merge_backups(a)
    assert dump(backup) == before


def test_merging_an_empty_copy_changes_nothing(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    code(a, "Lan Nguyen", "Ahmed 2019", "Peers build trust")
    before = dump(a)
    assert run(["merge", str(a), str(b)]) == 0
    assert dump(a) == before
    assert merge_backups(a) == []


def test_dry_run_changes_nothing_and_names_the_coder(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    code(b, "Sam Okafor", "Brown 2021", "Outreach builds trust")
    before = dump(a)
    assert run(["merge", str(a), str(b), "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[0]
    assert report["dry_run"] and report["new_changes"] > 0
    assert report["arrived"]["Sam Okafor"]["cmoc"] == 1
    assert dump(a) == before


@pytest.mark.parametrize("kind", ["other project", "not a project", "newer version", "itself"])
def test_wrong_files_are_refused_and_change_nothing(copies, tmp_path, capsys, kind) -> None:
    a, b = copies("lan"), copies("sam")
    code(b, "Sam Okafor", "Brown 2021", "Outreach builds trust")
    if kind == "other project":
        with Session.create(tmp_path / "other.cmo", coder="Someone") as s:
            coding.add_study(s, {"label": "Other 2020"})
        wrong = tmp_path / "other.cmo"
    elif kind == "not a project":
        wrong = tmp_path / "notes.cmo"
        wrong.write_bytes(b"just some notes, not a project\n" * 10)
    elif kind == "newer version":
        wrong = tmp_path / "newer.cmo"
        shutil.copy2(b, wrong)
        import sqlite3

        con = sqlite3.connect(wrong)
        con.execute("UPDATE meta SET value='99' WHERE key='format_version'")
        con.commit()
        con.close()
    else:
        wrong = a
    before_bytes = a.read_bytes()
    before = dump(a)
    # a good file listed first must not be merged either: every file is checked first
    assert run(["merge", str(a), str(b), str(wrong)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cmo-desk: ")
    assert "Traceback" not in err[0]
    assert dump(a) == before
    assert a.read_bytes() == before_bytes
    assert merge_backups(a) == []


def test_bundle_merges_like_the_full_file(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    a_full = a.with_name("a-full.cmo")
    code(b, "Sam Okafor", "Brown 2021", "Outreach builds trust")
    with Session.open(b, coder="Sam Okafor") as s:
        with s.write() as uow:
            sha = uow.put_blob(b"%PDF-1.4 original bytes")
            uow.create("document", {"study_id": study_id(s, "Brown 2021"), "filename": "x.pdf",
                                    "sha256": sha, "text": "x", "has_original": True})
    shutil.copy2(a, a_full)
    bundle = b.with_name("sam")
    assert run(["bundle", str(b), "-o", str(bundle)]) == 0
    written = bundle.with_suffix(".cmobundle")
    assert written.exists() and written.stat().st_size < b.stat().st_size
    assert run(["merge", str(a), str(written)]) == 0
    assert "Sam Okafor" in capsys.readouterr().out
    assert run(["merge", str(a_full), str(b)]) == 0
    full, from_bundle = json.loads(dump(a_full)), json.loads(dump(a))
    assert from_bundle["blobs"] == [] and len(full["blobs"]) == 1
    full.pop("blobs"), from_bundle.pop("blobs")
    assert full == from_bundle
    # the document bytes arrive later with the full file, and nothing else changes
    assert run(["merge", str(a), str(b)]) == 0
    assert dump(a) == dump(a_full)


def test_concurrent_edits_are_listed_and_resolved(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    for path, coder, title in ((a, "Lan Nguyen", "Peer navigators (2019)"),
                               (b, "Sam Okafor", "Peer navigation in harm reduction")):
        with Session.open(path, coder=coder) as s:
            coding.update_study(s, study_id(s, "Ahmed 2019"), {"title": title})
    assert run(["merge", str(a), str(b)]) == 0
    assert "new conflicts: 1" in capsys.readouterr().out

    assert run(["conflicts", str(a)]) == 0
    text = capsys.readouterr().out
    assert "Ahmed 2019" in text and "title" in text
    assert "Lan Nguyen" in text and "Sam Okafor" in text
    assert "started from: Peer navigators in harm reduction" in text

    assert run(["conflicts", str(a), "--json"]) == 0
    (conflict,) = json.loads(capsys.readouterr().out)
    assert conflict["label"] == "Ahmed 2019"
    assert {v["coder"] for v in conflict["values"]} == {"Lan Nguyen", "Sam Okafor"}
    assert all(v["time"].endswith("+00:00") for v in conflict["values"])
    assert conflict["ancestors"] == ["Peer navigators in harm reduction"]

    picked = conflict["values"][1]["value"]
    assert run(["resolve", str(a), "--entity", conflict["entity"], "--field", "title",
                "--pick", "2", "--coder", "Coordinator"]) == 0
    assert "0 conflicts left" in capsys.readouterr().out
    with Session.open(a) as s:
        assert s.store.get("study", conflict["entity_id"]).title == picked

    # the resolution travels: after merging back, Sam's copy has no conflict either
    assert run(["merge", str(b), str(a)]) == 0
    capsys.readouterr()
    assert run(["conflicts", str(b)]) == 0
    assert "No conflicts." in capsys.readouterr().out
    assert dump(a) == dump(b)


def test_edit_against_delete_is_a_conflict_until_resolved(copies, capsys) -> None:
    a, b = copies("lan"), copies("sam")
    with Session.open(a, coder="Coordinator") as s:
        sid = study_id(s, "Brown 2021")
        with s.write() as uow:
            uow.delete("study", sid)
    with Session.open(b, coder="Sam Okafor") as s:
        coding.update_study(s, sid, {"journal": "Harm Reduction Journal"})
    assert run(["merge", str(a), str(b)]) == 0
    capsys.readouterr()
    assert run(["conflicts", str(a), "--json"]) == 0
    (conflict,) = json.loads(capsys.readouterr().out)
    assert conflict["kind"] == "edit_vs_delete" and conflict["field"] == "exists"
    assert "Harm Reduction Journal" in [v["value"] for v in conflict["values"]]
    with Session.open(a) as s:
        assert s.store.get("study", sid) is None  # deletions stick until someone decides

    assert run(["resolve", str(a), "--entity", f"study:{sid}", "--field", "title",
                "--value", "x"]) != 0
    assert "--keep-deleted or --restore" in capsys.readouterr().err
    assert run(["resolve", str(a), "--entity", f"study:{sid}", "--restore"]) == 0
    with Session.open(a) as s:
        assert s.store.get("study", sid).journal == "Harm Reduction Journal"
        assert s.store.conflicts() == []


def test_resolve_rejects_unknown_records_clearly(copies, capsys) -> None:
    a = copies("lan")
    assert run(["resolve", str(a), "--entity", "study", "--field", "x", "--value", "1"]) != 0
    assert "TYPE:ID" in capsys.readouterr().err
    assert run(["resolve", str(a), "--entity", "study:nope", "--field", "title",
                "--pick", "1"]) != 0
    assert "no conflict" in capsys.readouterr().err


def test_each_file_is_read_once_and_one_backup_covers_the_merge(copies, capsys,
                                                               monkeypatch) -> None:
    """`merge A B C`: each bundle is unpacked and checked once (not once to check and again to
    merge), and the project is backed up once, before the first write, as it was before."""
    from cmo_desk.store import merging as store_merging

    a = copies("lan")
    bundles = []
    for name, who in (("sam", "Sam Okafor"), ("kim", "Kim Le"), ("ana", "Ana Silva")):
        mine = copies(name)
        code(mine, who, "Brown 2021", f"{who}: outreach builds trust")
        bundles.append(mine.with_name(f"{name}.cmobundle"))
        assert run(["bundle", str(mine), "-o", str(bundles[-1]), "--for", str(a)]) == 0
    before = dump(a)
    opened: list[str] = []
    real = store_merging.reading

    def counted(path: Path):  # type: ignore[no-untyped-def]
        opened.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(store_merging, "reading", counted)
    capsys.readouterr()
    assert run(["merge", str(a), *map(str, bundles)]) == 0
    assert sorted(opened) == sorted(b.name for b in bundles)
    out = capsys.readouterr().out
    assert all(who in out for who in ("Sam Okafor", "Kim Le", "Ana Silva"))
    (backup,) = merge_backups(a)
    assert dump(backup) == before
    with Session.open(a) as s:
        statements = {c.statement for c in s.store.list("cmoc")}
    assert {"Sam Okafor: outreach builds trust", "Kim Le: outreach builds trust",
            "Ana Silva: outreach builds trust"} <= statements


def test_merge_text_says_what_a_bundle_made_for_another_copy_could_not_show(copies, capsys) -> None:
    """Sam's bundle for Mei holds only his edit of a CMOC Mei had; the coordinator never had that
    CMOC. The text summary says so, as the desk and --json do, and what completes it."""
    coordinator, sam, mei = copies("coordinator"), copies("sam"), copies("mei")
    cid = code(sam, "Sam Okafor", "Ahmed 2019", "Sam's first reading")
    assert run(["merge", str(mei), str(sam)]) == 0
    with Session.open(sam, coder="Sam Okafor") as s:
        coding.update_cmoc(s, cid, {"statement": "Sam's second reading"})
    bundle = sam.parent / "for-mei.cmobundle"
    assert run(["bundle", str(sam), "--for", str(mei), "-o", str(bundle)]) == 0
    capsys.readouterr()
    assert run(["merge", str(coordinator), str(bundle)]) == 0
    out, err = capsys.readouterr()
    assert "made for another copy" in out and "(1)" in out
    assert "Traceback" not in out + err
    # the sender's own copy completes the record: the note is gone
    assert run(["merge", str(coordinator), str(sam)]) == 0
    out = capsys.readouterr().out
    assert "made for another copy" not in out
