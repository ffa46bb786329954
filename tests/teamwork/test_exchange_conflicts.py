"""Conflicts that a merge must list for a person, never crash on and never drop silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.domain.errors import ValidationError
from cmo_desk.services import coding
from cmo_desk.services.session import Session

from .conftest import study_id


def laptop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    """Work as another installation: its own config folder, so its own site id."""
    folder = tmp_path / f"config-{name}"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(folder))


def shared_excerpt(project: Path) -> str:
    with Session.open(project, coder="Lan") as s:
        sid = study_id(s, "Ahmed 2019")
        doc = s.store.list("document", study_id=sid)[0]
        ex, _ = coding.add_excerpt(s, doc.id, 0, 20, "mechanism", memo="first")
    return ex


def conflicts_of(path: Path) -> list:
    with Session.open(path, read_only=True) as s:
        return s.store.conflicts()


def test_delete_on_one_laptop_delete_restore_edit_on_another_is_one_conflict(
        base_project, tmp_path, monkeypatch, capsys) -> None:
    ex = shared_excerpt(base_project)
    a, b = tmp_path / "a.cmo", tmp_path / "b.cmo"
    shutil.copy2(base_project, a)
    shutil.copy2(base_project, b)
    laptop(monkeypatch, tmp_path, "one")
    with Session.open(a, coder="Lan") as s:
        coding.delete_excerpt(s, ex)
    laptop(monkeypatch, tmp_path, "two")
    with Session.open(b, coder="Lan") as s:
        coding.delete_excerpt(s, ex)
        coding.restore_excerpt(s, ex)
        coding.update_excerpt(s, ex, {"memo": "second thoughts"})
    a2 = tmp_path / "a2.cmo"
    shutil.copy2(a, a2)
    capsys.readouterr()
    assert run(["merge", str(a), str(b)]) == 0, capsys.readouterr().err
    assert run(["merge", str(b), str(a2)]) == 0, capsys.readouterr().err
    for path in (a, b):
        found = [c for c in conflicts_of(path) if c.entity_id == ex]
        assert len(found) == 1
        # every side is listed: the deletion, the restore and the edit the deleter never saw
        values = [v.value for v in found[0].values]
        assert False in values and True in values and "second thoughts" in values
    # settling it once settles it for good
    with Session.open(a, coder="Coordinator") as s:
        coding.resolve_conflict(s, "excerpt", ex, "exists", True)
        assert not [c for c in s.store.conflicts() if c.entity_id == ex]
        assert s.store.get("excerpt", ex).memo == "second thoughts"


def test_two_coordinators_settle_differently_then_one_edits(
        base_project, tmp_path, monkeypatch, capsys) -> None:
    ex = shared_excerpt(base_project)
    a, b = tmp_path / "a.cmo", tmp_path / "b.cmo"
    shutil.copy2(base_project, a)
    shutil.copy2(base_project, b)
    laptop(monkeypatch, tmp_path, "one")
    with Session.open(a, coder="Lan") as s:
        coding.delete_excerpt(s, ex)
    laptop(monkeypatch, tmp_path, "two")
    with Session.open(b, coder="Lan") as s:
        coding.update_excerpt(s, ex, {"memo": "edited"})
    assert run(["merge", str(a), str(b)]) == 0
    assert run(["merge", str(b), str(a)]) == 0
    assert [c.kind for c in conflicts_of(a)] == ["edit_vs_delete"]
    laptop(monkeypatch, tmp_path, "one")
    with Session.open(a, coder="Coordinator A") as s:
        coding.resolve_conflict(s, "excerpt", ex, "exists", False)
    laptop(monkeypatch, tmp_path, "two")
    with Session.open(b, coder="Coordinator B") as s:
        coding.resolve_conflict(s, "excerpt", ex, "exists", True)
    with Session.open(b, coder="Lan") as s:
        coding.update_excerpt(s, ex, {"memo": "edited again"})
    capsys.readouterr()
    assert run(["merge", str(a), str(b)]) == 0, capsys.readouterr().err
    assert run(["merge", str(b), str(a)]) == 0, capsys.readouterr().err
    found = [c for c in conflicts_of(a) if c.entity_id == ex]
    assert len(found) == 1 and found[0].field == "exists"
    assert "edited again" in [v.value for v in found[0].values]
    assert run(["conflicts", str(a)]) == 0
    assert "edited again" in capsys.readouterr().out


def code_id_named(s: Session, name: str) -> str:
    return next(c.id for c in s.store.list("code", include_deleted=True) if c.name == name)


def test_coding_with_a_code_merged_elsewhere_is_counted_under_its_target(
        base_project, tmp_path, monkeypatch, capsys) -> None:
    coord, lan, sam = (tmp_path / f"{n}.cmo" for n in ("coord", "lan", "sam"))
    for p in (coord, lan, sam):
        shutil.copy2(base_project, p)
    laptop(monkeypatch, tmp_path, "coord")
    with Session.open(coord, coder="Coordinator") as s:
        coding.merge_codes(s, code_id_named(s, "Stigma"), code_id_named(s, "Trust"))
    laptop(monkeypatch, tmp_path, "sam")
    assert run(["merge", str(sam), str(coord)]) == 0
    with Session.open(sam, coder="Sam") as s:
        coding.create_cmoc(s, study_id(s, "Ahmed 2019"), {"statement": "Sam's"},
                           code_ids=[code_id_named(s, "Trust")])
    laptop(monkeypatch, tmp_path, "lan")
    with Session.open(lan, coder="Lan") as s:  # Lan has not heard of the merge yet
        lan_cmoc, _ = coding.create_cmoc(s, study_id(s, "Ahmed 2019"), {"statement": "Lan's"},
                                         code_ids=[code_id_named(s, "Stigma")])
    laptop(monkeypatch, tmp_path, "coord")
    assert run(["merge", str(coord), str(lan), str(sam)]) == 0
    with Session.open(coord, coder="Coordinator") as s:
        trust = code_id_named(s, "Trust")
        assert s.store.get("cmoc", lan_cmoc).code_ids == (trust,)
    with Session.open(coord, coder="Lan") as s:  # and Lan can take it off again
        coding.set_cmoc_codes(s, lan_cmoc, [])
        assert s.store.get("cmoc", lan_cmoc).code_ids == ()
        coding.set_cmoc_codes(s, lan_cmoc, [trust])
    capsys.readouterr()
    assert run(["agreement", str(coord), "--coders", "Lan,Sam", "--json"]) == 0
    import json
    report = json.loads(capsys.readouterr().out)
    assert report["pooled"]["percent"] == 100.0


def test_a_code_deleted_while_another_coder_uses_it_is_a_conflict(
        base_project, tmp_path, monkeypatch, capsys) -> None:
    coord, lan = tmp_path / "coord.cmo", tmp_path / "lan.cmo"
    shutil.copy2(base_project, coord)
    shutil.copy2(base_project, lan)
    laptop(monkeypatch, tmp_path, "coord")
    with Session.open(coord, coder="Coordinator") as s:
        coding.delete_code(s, code_id_named(s, "Stigma"))
    laptop(monkeypatch, tmp_path, "lan")
    with Session.open(lan, coder="Lan") as s:
        cm, _ = coding.create_cmoc(s, study_id(s, "Ahmed 2019"), {"statement": "Lan's"},
                                   code_ids=[code_id_named(s, "Stigma")])
    laptop(monkeypatch, tmp_path, "coord")
    assert run(["merge", str(coord), str(lan)]) == 0
    found = [c for c in conflicts_of(coord) if c.entity_type == "code"]
    assert len(found) == 1 and found[0].field == "exists"
    assert "Lan" in {v.coder_name for v in found[0].values}
    # restoring the code brings the tagging back into view
    with Session.open(coord, coder="Coordinator") as s:
        from cmo_desk.services import merging
        merging.resolve_exists(s, "code", found[0].entity_id, keep=True)
        assert not s.store.conflicts()
        assert s.store.get("cmoc", cm).code_ids == (found[0].entity_id,)


def test_keeping_a_used_code_deleted_removes_its_taggings_and_settles_it(
        base_project, tmp_path, monkeypatch) -> None:
    coord, lan = tmp_path / "coord.cmo", tmp_path / "lan.cmo"
    shutil.copy2(base_project, coord)
    shutil.copy2(base_project, lan)
    with Session.open(coord, coder="Coordinator") as s:
        coding.delete_code(s, code_id_named(s, "Stigma"))
    with Session.open(lan, coder="Lan") as s:
        cm, _ = coding.create_cmoc(s, study_id(s, "Ahmed 2019"), {"statement": "Lan's"},
                                   code_ids=[code_id_named(s, "Stigma")])
    assert run(["merge", str(coord), str(lan)]) == 0
    with Session.open(coord, coder="Coordinator") as s:
        from cmo_desk.services import merging
        stigma = code_id_named(s, "Stigma")
        merging.resolve_exists(s, "code", stigma, keep=False)
        assert not s.store.conflicts()
        assert s.store.get("cmoc", cm).code_ids == ()
        assert s.store.get("code", stigma) is None


def test_a_study_deleted_while_a_cmoc_on_it_is_edited_is_a_conflict(
        base_project, tmp_path, monkeypatch) -> None:
    with Session.open(base_project, coder="Lan") as s:
        cm, _ = coding.create_cmoc(s, study_id(s, "Ahmed 2019"), {"statement": "first"})
        sid = study_id(s, "Ahmed 2019")
    coord, lan = tmp_path / "coord.cmo", tmp_path / "lan.cmo"
    shutil.copy2(base_project, coord)
    shutil.copy2(base_project, lan)
    laptop(monkeypatch, tmp_path, "coord")
    with Session.open(coord, coder="Coordinator") as s, s.write() as uow:
        uow.delete("cmoc", cm)
        uow.delete("study", sid)
    laptop(monkeypatch, tmp_path, "lan")
    with Session.open(lan, coder="Lan") as s:
        coding.update_cmoc(s, cm, {"statement": "second"})
    laptop(monkeypatch, tmp_path, "coord")
    assert run(["merge", str(coord), str(lan)]) == 0
    found = {(c.entity_type, c.field) for c in conflicts_of(coord)}
    assert ("cmoc", "exists") in found
    with Session.open(coord, coder="Coordinator") as s:
        from cmo_desk.services import merging
        merging.resolve_exists(s, "cmoc", cm, keep=True)
        # the CMOC lives, but on a deleted study: that is a conflict for a person too
        assert [(c.entity_type, c.entity_id) for c in s.store.conflicts()] == [("study", sid)]
        merging.resolve_exists(s, "study", sid, keep=True)
        assert not s.store.conflicts()
        assert s.store.get("study", sid) is not None


def cycle_made_on_two_laptops(base_project: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """Trust moved under Stigma on one laptop, Stigma under Trust on another, then merged into
    the first: (that project, Trust's id, Stigma's id)."""
    a, b = tmp_path / "a.cmo", tmp_path / "b.cmo"
    shutil.copy2(base_project, a)
    shutil.copy2(base_project, b)
    with Session.open(a, coder="Lan") as s:
        trust, stigma = code_id_named(s, "Trust"), code_id_named(s, "Stigma")
        coding.update_code(s, trust, {"parent_id": stigma})
    with Session.open(b, coder="Sam") as s:
        coding.update_code(s, stigma, {"parent_id": trust})
    assert run(["merge", str(a), str(b)]) == 0
    return a, trust, stigma


def test_a_code_parent_cycle_made_on_two_laptops_is_a_conflict(
        base_project, tmp_path, monkeypatch, capsys) -> None:
    a, trust, stigma = cycle_made_on_two_laptops(base_project, tmp_path)
    (conflict,) = conflicts_of(a)
    assert conflict.entity_type == "code" and conflict.field == "parent_id"
    assert conflict.kind == "parent_cycle"
    capsys.readouterr()
    assert run(["conflicts", str(a)]) == 0
    values = [line for line in capsys.readouterr().out.splitlines()
              if line.strip().startswith("[")]
    assert len(values) == 2
    assert any("Trust under Stigma" in v for v in values)
    assert any("Stigma under Trust" in v for v in values)
    assert not any(trust in v or stigma in v for v in values)
    assert run(["check", str(a)]) == 0
    assert run(["resolve", str(a), "--entity", f"code:{conflict.entity_id}",
                "--field", "parent_id", "--value", "null"]) == 0
    assert not conflicts_of(a)


def test_moving_a_code_while_a_cycle_waits_to_be_settled_does_not_hang(
        base_project, tmp_path) -> None:
    """Until a person settles it, the merged codebook holds a cycle: moving another code under
    one of its codes (or trying to move one of them under the other) must answer, not spin."""
    import threading

    with Session.open(base_project, coder="Coordinator") as s:
        other, _ = coding.add_code(s, "Access", "outcome")
    a, trust, stigma = cycle_made_on_two_laptops(base_project, tmp_path)
    outcome: list[object] = []

    def move() -> None:
        with Session.open(a, coder="Lan") as s:
            coding.update_code(s, other, {"parent_id": trust})
            outcome.append(s.store.get("code", other).parent_id)
            try:
                coding.update_code(s, stigma, {"parent_id": other})
            except ValidationError as err:
                outcome.append(str(err))

    worker = threading.Thread(target=move, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "moving a code spun forever over the unsettled cycle"
    assert outcome[0] == trust
    assert outcome[1] == "A code cannot be moved under itself."


def test_a_laptop_years_fast_does_not_drag_others_and_is_named(
        base_project, tmp_path, monkeypatch, capsys) -> None:
    import time as _time

    from cmo_desk.domain import changelog
    from cmo_desk.store.site import Site

    a, c = tmp_path / "a.cmo", tmp_path / "c.cmo"
    shutil.copy2(base_project, a)
    shutil.copy2(base_project, c)
    fast_ms = int(_time.time() * 1000) + 14 * 365 * 24 * 3600 * 1000
    laptop(monkeypatch, tmp_path, "fast")
    real_init = changelog.HybridClock.__init__

    def fast_clock(self, wall=0, counter=0, now=None):
        real_init(self, wall, counter, now=lambda: fast_ms)

    monkeypatch.setattr(changelog.HybridClock, "__init__", fast_clock)
    with Session.open(c, coder="Chen Fast") as s:
        coding.update_study(s, study_id(s, "Ahmed 2019"), {"title": "Edited in 2040"})
        fast_site = s.store.site.site_id
    monkeypatch.setattr(changelog.HybridClock, "__init__", real_init)
    laptop(monkeypatch, tmp_path, "right")
    capsys.readouterr()
    assert run(["merge", str(a), str(c)]) == 0
    err = capsys.readouterr().err
    assert fast_site[:8] in err and "Chen Fast" in err
    with Session.open(a, coder="Lan") as s:
        right_site = s.store.site.site_id
        coding.update_study(s, study_id(s, "Brown 2021"), {"title": "Edited today"})
        mine = [ch for ch in s.store.changes_for("study", study_id(s, "Brown 2021"))
                if ch.field == "title" and ch.site_id == right_site]
    assert mine and mine[0].wall < int(_time.time() * 1000) + 3600 * 1000
    assert Site.load(tmp_path / "config-right").wall < fast_ms - 365 * 24 * 3600 * 1000
    # a third laptop merging the coordinator's file still names the fast laptop, not this one
    b = tmp_path / "b.cmo"
    shutil.copy2(base_project, b)
    laptop(monkeypatch, tmp_path, "third")
    capsys.readouterr()
    assert run(["merge", str(b), str(a)]) == 0
    err = capsys.readouterr().err
    assert fast_site[:8] in err and right_site[:8] not in err


def test_repair_sets_back_a_clock_left_in_the_future(base_project, tmp_path, monkeypatch,
                                                     capsys) -> None:
    from cmo_desk.store.site import Site

    laptop(monkeypatch, tmp_path, "poisoned")
    site = Site.load()
    site.wall = 2_200_000_000_000  # 2039
    site.save()
    capsys.readouterr()
    assert run(["repair", str(base_project)]) == 0
    assert "set back" in capsys.readouterr().out
    assert Site.load().wall < 2_000_000_000_000


def test_a_conflict_on_a_kind_of_record_this_version_does_not_know_is_labelled_by_its_id(
        base_project) -> None:
    from cmo_desk.services.merging import record_label

    ex = shared_excerpt(base_project)
    with Session.open(base_project, read_only=True) as s:
        code = s.store.list("code")[0]
        assert record_label(s.store, "excerpt", ex) == "Ahmed 2019: Peer navigators in h"
        assert record_label(s.store, "excerpt_code", "no-such-link-id") == "no-such-"
        # a newer version's kind of record, or a near miss of a known one: the id's start
        for etype in ("annotation", "Excerpt", "excerpt ", "📄"):
            assert record_label(s.store, etype, ex) == ex[:8]
        assert record_label(s.store, "code", code.id) == code.name


def test_resolving_on_an_unknown_kind_of_record_says_so_and_writes_nothing(base_project) -> None:
    from cmo_desk.domain.errors import ValidationError

    ex = shared_excerpt(base_project)
    with Session.open(base_project, coder="Lan") as s:
        mark = s.store.change_count()
        for etype in ("excerpts", "Excerpt", "annotation"):
            with pytest.raises(ValidationError, match=f"^Unknown record type '{etype}'.$"):
                coding.resolve_conflict(s, etype, ex, "memo", "forged")
        assert s.store.change_count() == mark
        assert s.store.get("excerpt", ex).memo == "first"
