"""The aggregates the desk reads (counted in SQL) agree with the records they summarise, and the
change log names exactly what each write touched."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain import records as rec
from cmo_desk.services import coding, desk
from cmo_desk.services.session import Session


def rows_from_records(session: Session) -> dict[str, tuple[tuple[str, ...], dict[str, str], bool]]:
    """Each study's countries, coder progress and full-text flag, from whole records."""
    store = session.store
    out = {}
    for s in store.list("study"):
        countries: list[str] = []
        for fv in store.list("form_value", key="countries", study_id=s.id):
            values = fv.value if isinstance(fv.value, list) else [fv.value] if fv.value else []
            countries.extend(str(v) for v in values if v and str(v) not in countries)
        status = {a["coder_id"]: a["status"] or "assigned"
                  for a in store.links("assignment", study_id=s.id)}
        for ex in store.list("excerpt", study_id=s.id):
            if ex.owner_id and status.get(ex.owner_id) in (None, "assigned"):
                status[ex.owner_id] = "draft"
        out[s.id] = (tuple(countries), status,
                     bool(store.list("document", study_id=s.id)))
    return out


def test_study_rows_agree_with_the_records(demo_path: Path) -> None:
    rnd = random.Random(3)
    with Session.open(demo_path, coder="Ana") as s:
        excerpts = s.store.list("excerpt")
        for ex in rnd.sample(excerpts, len(excerpts) // 2):
            with s.write(need_coder=False) as uow:
                uow.delete("excerpt", ex.id)
        studies = s.store.list("study")
        coding.set_form_value(s, studies[0].id, "countries", ["Viet Nam", "Lao PDR"])
        expected = rows_from_records(s)
        rows = desk.study_rows(s)
        assert {r.id: (r.countries, r.status, r.has_text) for r in rows} == expected
        assert [r.label for r in rows] == sorted((r.label for r in rows), key=str.casefold)
        some = [studies[0].id, studies[-1].id]
        assert desk.study_rows(s, some) == [r for r in rows if r.id in some]
        assert desk.study_rows(s, []) == []


def test_code_usage_counts_live_links(demo_path: Path) -> None:
    with Session.open(demo_path, coder="Ana") as s:
        links = s.store.links("excerpt_code")
        with s.write(need_coder=False) as uow:
            uow.unlink("excerpt_code", excerpt_id=links[0]["excerpt_id"],
                       code_id=links[0]["code_id"])
        expected = Counter(row["code_id"] for row in s.store.links("excerpt_code"))
        assert desk.code_usage(s) == expected
        assert sum(expected.values()) == len(links) - 1


@settings(max_examples=30)
@given(st.lists(st.sampled_from(["study", "form", "excerpt", "delete", "code"]), min_size=1,
                max_size=6))
def test_the_log_names_what_each_write_touched(demo_template: Path, tmp_path_factory,
                                               steps: list[str]) -> None:
    import shutil

    path = tmp_path_factory.mktemp("log") / "p.cmo"
    shutil.copy(demo_template, path)
    with Session.open(path, coder="Ana") as s:
        study = s.store.list("study")[0]
        doc = desk.study_document(s, study.id)
        code = s.store.list("code")[0]
        heard: list[rec.Changed] = []
        s.listeners.append(heard.append)
        mark = s.log_mark()
        for i, step in enumerate(steps):
            if step == "study":
                coding.add_study(s, {"label": f"Added {i}"})
            elif step == "form":
                coding.set_form_value(s, study.id, "region", f"Region {i}")
            elif step in ("excerpt", "code") and doc is not None:
                coding.add_excerpt(s, doc.id, i, i + 10, "context",
                                   [code.id] if step == "code" else [])
            elif step == "delete":
                mine = [e for e in s.store.list("excerpt") if e.owner_id == s.coder_id]
                if mine:
                    coding.delete_excerpt(s, mine[0].id)
        union: dict[str, set[str]] = {}
        for changed in heard:
            for etype, ids in changed.entities.items():
                union.setdefault(etype, set()).update(ids)
        since = s.changed_since(mark)
        assert {t: set(ids) for t, ids in since.entities.items()} == union
        assert since.change_count == sum(c.change_count for c in heard)
        assert not s.changed_since(s.log_mark())
