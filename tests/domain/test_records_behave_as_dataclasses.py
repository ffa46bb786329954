"""Records compare, hash and print exactly as ordinary frozen dataclasses of the same fields do
(their comparison, hash and repr are written once on ``Fieldwise`` instead of generated per
class)."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain import records as rec

RECORD_CLASSES = sorted((c for c in vars(rec).values() if isinstance(c, type)
                         and issubclass(c, rec.Fieldwise) and dataclasses.is_dataclass(c)),
                        key=lambda c: c.__name__)

# hashable and unhashable values, strings with astral characters and quotes, nested tuples
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=8), st.sampled_from(["😀 '\"", "\\n", "é"]))
values = st.one_of(scalars, st.tuples(scalars, scalars), st.lists(scalars, max_size=3))


def reference(cls: type) -> type:
    """The same fields as an ordinary frozen dataclass, named and placed like ``cls``."""
    ref = dataclasses.make_dataclass(
        cls.__name__, [(f.name, Any, dataclasses.field(default=None)) for f in
                       dataclasses.fields(cls)], frozen=True)
    ref.__qualname__ = cls.__qualname__
    return ref


@st.composite
def pairs(draw: st.DrawFn) -> tuple[type, dict[str, Any], dict[str, Any]]:
    cls = draw(st.sampled_from(RECORD_CLASSES))
    names = [f.name for f in dataclasses.fields(cls)]
    first = {n: draw(values) for n in names}
    # often equal, often different in one field only
    second = dict(first)
    if draw(st.booleans()):
        changed = draw(st.sampled_from(names))
        second[changed] = draw(values)
    return cls, first, second


def hashed(obj: object) -> int | str:
    try:
        return hash(obj)
    except TypeError as err:
        return f"TypeError: {err}"


@settings(max_examples=100, deadline=None)
@given(pairs())
def test_records_compare_hash_and_print_as_frozen_dataclasses(
        case: tuple[type, dict[str, Any], dict[str, Any]]) -> None:
    cls, first, second = case
    ref = reference(cls)
    a, b = cls(**first), cls(**second)
    ra, rb = ref(**first), ref(**second)
    assert repr(a) == repr(ra)
    assert (a == b) == (ra == rb) and (a != b) == (ra != rb)
    assert hashed(a) == hashed(ra)
    if not isinstance(hashed(a), str) and a == b:
        assert hash(a) == hash(b)
    assert dataclasses.astuple(a) == dataclasses.astuple(ra)
    assert dataclasses.replace(a, **second) == b


def test_every_record_and_value_of_the_module_is_covered() -> None:
    names = {c.__name__ for c in RECORD_CLASSES}
    assert {"Record", "Study", "Cmoc", "Changed", "Conflict", "ConflictValue", "CmocLinks"} <= names
    every = {name for name, c in vars(rec).items() if dataclasses.is_dataclass(c)}
    assert every == names


def test_a_record_is_never_equal_to_another_kind_of_record_with_the_same_fields() -> None:
    class Other(rec.Code):
        pass

    assert rec.Code("c1") != Other("c1") and Other("c1") != rec.Code("c1")
    assert rec.Code("c1") != ("c1", False) and rec.Code("c1") == rec.Code("c1")
    assert rec.Code("c1") in {rec.Code("c1")} and rec.Code("c2") not in {rec.Code("c1")}


def test_records_stay_frozen_and_survive_pickling() -> None:
    code = rec.Code("c1", name="Stigma")
    with pytest.raises(dataclasses.FrozenInstanceError):
        code.name = "Other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del code.name  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(code)) == code
    assert rec.Study("s1", authors=["Nguyen L"]) == rec.Study("s1", authors=["Nguyen L"])
    with pytest.raises(TypeError):
        hash(rec.Study("s1", authors=["Nguyen L"]))  # a list inside: unhashable, as before
