"""A record coming from another copy is projected from its change tuples exactly as
``project_entity`` projects its changes (the merge reads most records off directly)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain.changelog import (
    Change,
    change_of,
    make_change,
    project_entity,
    project_new_record,
)
from cmo_desk.domain.schema import ENTITIES, EXISTS

_TYPES = ["study", "cmoc", "excerpt", "code", "no_such_type"]
_VALUES = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=4) | st.just("🙂 ü") | st.lists(st.integers(), max_size=2))


def _fields(etype: str) -> list[str]:
    spec = ENTITIES.get(etype)
    return [EXISTS, "from_a_newer_version", *(spec.field_names if spec else ("label",))]


def _tuple(c: Change) -> tuple:
    return (c.change_id, c.entity_type, c.entity_id, c.field, c.value, c.wall, c.counter,
            c.site_id, c.coder_id, c.parents, c.seen)


def _shown(state):
    if state is None:
        return None
    return (state.exists, state.values,
            [(fc.field, fc.kind, [h.change_id for h in fc.heads],
              [a.change_id for a in fc.ancestors], fc.shown) for fc in state.conflicts])


@st.composite
def _records(draw):
    etype = draw(st.sampled_from(_TYPES))
    names = _fields(etype)
    changes: list[Change] = []
    created = draw(st.sampled_from([True, True, 1, False, None]))
    if created is not None:  # most records: created once, each field written once
        changes.append(make_change(etype, "r1", EXISTS, created, 1, 0, "s", "c"))
    for n, (name, value, chain, site) in enumerate(draw(st.lists(st.tuples(
            st.sampled_from(names), _VALUES, st.booleans(), st.sampled_from(["s", "t"])),
            max_size=8)), 2):
        if name == EXISTS:
            value = draw(st.booleans())
        prior = [c.change_id for c in changes if c.field == name] if chain else []
        seen = [c.change_id for c in changes if c.field != EXISTS] if name == EXISTS else []
        changes.append(make_change(etype, "r1", name, value, n, 0, site, "c", prior[-1:],
                                   seen))
    return etype, changes


@settings(max_examples=100, deadline=None)
@given(_records())
def test_a_new_record_is_projected_as_from_its_changes(record) -> None:
    etype, changes = record
    expected = project_entity(etype, "r1", changes)
    got = project_new_record(etype, "r1", [_tuple(c) for c in changes])
    assert _shown(got) == _shown(expected)


def test_a_change_tuple_gives_back_the_change() -> None:
    c = make_change("excerpt", "e1 🙂", "quote", {"a": [1.5, None]}, 7, 2, "site", None,
                    ["p"], ["s"])
    back = change_of(_tuple(c))
    assert back == c and vars(back) == vars(c) and back.order_key == c.order_key
