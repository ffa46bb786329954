"""``dump`` streams: the text written piece by piece equals the canonical JSON of the whole dump,
including awkward text, empty tables, deleted records and conflicts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.services import coding
from cmo_desk.services.projects import new_project
from cmo_desk.services.session import Session


def canonical(store) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(store.dump(), sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def test_demo_dump_streams_the_same_text(demo_path: Path) -> None:
    with Session.open(demo_path, coder="Ana") as s:
        excerpt = s.store.list("excerpt")[0]
        with s.write(need_coder=False) as uow:
            uow.delete("excerpt", excerpt.id)
        pieces = list(s.store.iter_dump_json())
        assert len(pieces) > 100  # written record by record, not as one string
        text = "".join(pieces)
        assert text == canonical(s.store)
        assert json.loads(text)["excerpt_deleted"] == [excerpt.id]


def test_an_empty_project_dumps_the_same_text(tmp_path: Path) -> None:
    with new_project(tmp_path / "empty.cmo", coder="Ana") as s:
        text = s.store.dump_json()
        assert text == canonical(s.store)
        assert json.loads(text)["blobs"] == [] and json.loads(text)["conflicts"] == []


@settings(max_examples=15, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()),
       st.lists(st.text(max_size=12), max_size=4))
def test_awkward_text_dumps_the_same(demo_template: Path, tmp_path_factory, label: str,
                                     countries: list[str]) -> None:
    path = tmp_path_factory.mktemp("dump") / "p.cmo"
    shutil.copy(demo_template, path)
    with Session.open(path, coder="Ana 🌱") as s:
        sid, _ = coding.add_study(s, {"label": label + " \n\"😀\u2028", "year": 2020})
        coding.set_form_value(s, sid, "countries", countries)
        text = s.store.dump_json()
        assert text == canonical(s.store)
        assert json.loads(text) == json.loads(canonical(s.store))
