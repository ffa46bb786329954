"""A .qdpx is an untrusted zip of XML: hostile or damaged files are refused with a clear message and
nothing is returned; random damage never crashes with anything but ImportFailed."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.importers.refi import read_qdc, read_qdpx
from cmo_desk.importers.safezip import SafeZip, ZipLimits

from .test_refi_import import PROJECT_XML

TEXT = "Ana: peers helped her."
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _zip(path: Path, entries: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


@pytest.mark.parametrize(
    ("evil_name", "message"),
    [
        ("../evil.txt", "leaves the archive"),
        ("sources/../../evil.txt", "leaves the archive"),
        ("sources\\..\\..\\evil.txt", "leaves the archive"),
        ("/etc/evil.txt", "absolute path"),
        ("C:\\Windows\\evil.txt", "absolute path"),
    ],
)
def test_paths_escaping_the_archive_are_refused(tmp_path, evil_name, message):
    path = _zip(tmp_path / "p.qdpx", {"project.qde": PROJECT_XML, "sources/t.txt": TEXT, evil_name: "x"})
    with pytest.raises(ImportFailed, match=message):
        read_qdpx(path)


def test_billion_laughs_is_refused_before_any_expansion(tmp_path):
    lol = "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY lol0 "lol">' + lol + "]>\n"
        '<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>'
    )
    path = _zip(tmp_path / "p.qdpx", {"project.qde": bomb})
    with pytest.raises(ImportFailed, match="DOCTYPE"):
        read_qdpx(path)
    qdc = tmp_path / "bomb.qdc"
    qdc.write_text(bomb.replace("Project", "CodeBook"))
    with pytest.raises(ImportFailed, match="DOCTYPE"):
        read_qdc(qdc)


def test_external_entities_are_refused(tmp_path):
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'
    )
    with pytest.raises(ImportFailed, match="DOCTYPE"):
        read_qdpx(_zip(tmp_path / "p.qdpx", {"project.qde": xxe}))


def test_utf16_doctype_is_refused_too(tmp_path):
    doc = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE Project [<!ENTITY a "b">]><Project name="&a;"/>'
    with pytest.raises(ImportFailed, match="DOCTYPE"):
        read_qdpx(_zip(tmp_path / "p.qdpx", {"project.qde": doc.encode("utf-16")}))


def test_huge_highly_compressible_member_is_refused(tmp_path):
    zeros = bytes(64 * 1024 * 1024)
    path = _zip(tmp_path / "bomb.qdpx", {"project.qde": PROJECT_XML, "sources/t.txt": zeros})
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(ImportFailed, match="zip bomb"):
        read_qdpx(path)


def test_oversized_and_too_many_members_are_refused(tmp_path):
    path = _zip(tmp_path / "p.qdpx", {"project.qde": PROJECT_XML, "sources/t.txt": "x" * 5000})
    with pytest.raises(ImportFailed, match="uncompressed, more than"):
        read_qdpx(path, limits=ZipLimits(max_member_bytes=4096))
    with pytest.raises(ImportFailed, match="unpacks to"):
        read_qdpx(path, limits=ZipLimits(max_total_bytes=4096))
    many = _zip(tmp_path / "many.qdpx", {"project.qde": PROJECT_XML, **{f"sources/{i}.txt": "x" for i in range(30)}})
    with pytest.raises(ImportFailed, match="more than the 20 allowed"):
        read_qdpx(many, limits=ZipLimits(max_members=20))


def _lie_about_size(path: Path, member: str, claimed: int) -> None:
    """Rewrite the declared uncompressed size of ``member`` in both zip headers."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    # Local file header: size at offset 22; central directory entry: size at offset 24.
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        pos = data.find(signature)
        while pos != -1:
            if data[pos + name_at : pos + name_at + len(name)] == name:
                struct.pack_into("<I", data, pos + size_at, claimed)
            pos = data.find(signature, pos + 1)
    path.write_bytes(bytes(data))


def test_header_sizes_are_not_trusted(tmp_path):
    path = _zip(tmp_path / "p.qdpx", {"project.qde": PROJECT_XML, "sources/t.txt": "y" * 3_000_000})
    _lie_about_size(path, "sources/t.txt", 100)
    # The header passes every check; the actual bytes do not.
    with SafeZip(path, ZipLimits(max_member_bytes=1_000_000)) as zf:
        with pytest.raises(ImportFailed):
            zf.read("sources/t.txt")
    with pytest.raises(ImportFailed):
        read_qdpx(path)


def test_read_is_capped_whatever_the_header_says(tmp_path):
    path = _zip(tmp_path / "p.zip", {"a.txt": "z" * 200_000})
    with SafeZip(path) as zf:
        with pytest.raises(ImportFailed, match="larger than"):
            zf.read("a.txt", max_bytes=100_000)
        assert len(zf.read("a.txt")) == 200_000


def test_duplicate_member_names_are_refused(tmp_path):
    path = tmp_path / "dup.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", PROJECT_XML)
        with pytest.warns(UserWarning):
            zf.writestr("project.qde", PROJECT_XML.replace('name="p"', 'name="q"'))
    with pytest.raises(ImportFailed, match="twice"):
        read_qdpx(path)


def test_deeply_nested_codes_do_not_crash(tmp_path):
    depth = 5000
    codes = "".join(
        f'<Code guid="{i:08x}-0000-4000-8000-000000000000" name="c{i}" isCodable="true">' for i in range(depth)
    ) + "</Code>" * depth
    xml = f'<Project xmlns="urn:QDA-XML:project:1.0" name="p"><CodeBook><Codes>{codes}</Codes></CodeBook></Project>'
    try:
        result = read_qdpx(_zip(tmp_path / "deep.qdpx", {"project.qde": xml}))
    except ImportFailed:
        return
    assert len(result.codes) == depth


# --- random damage --------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_are_refused_cleanly(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "x.qdpx"
    path.write_bytes(data)
    with pytest.raises(ImportFailed):
        read_qdpx(path)
    qdc = folder / "x.qdc"
    qdc.write_bytes(data)
    try:
        read_qdc(qdc)
    except ImportFailed:
        pass


_mutation = st.tuples(
    st.sampled_from(["delete", "insert", "replace"]),
    st.integers(min_value=0, max_value=len(PROJECT_XML)),
    st.integers(min_value=0, max_value=40),
    st.text(alphabet=st.sampled_from(list('<>/="&;#x0123456789-abcdeCodeSelection\x00\x7f中 ')), max_size=20),
)


@FUZZ
@given(st.lists(_mutation, min_size=1, max_size=4))
def test_damaged_project_xml_never_crashes(tmp_path_factory, mutations):
    xml = PROJECT_XML
    for op, at, length, text in mutations:
        if op == "delete":
            xml = xml[:at] + xml[at + length :]
        elif op == "insert":
            xml = xml[:at] + text + xml[at:]
        else:
            xml = xml[:at] + text + xml[at + len(text) :]
    path = _zip(tmp_path_factory.mktemp("fuzz") / "p.qdpx", {"project.qde": xml.encode("utf-8", "replace"), "sources/t.txt": TEXT})
    try:
        result = read_qdpx(path)
    except ImportFailed as err:
        assert str(err)
        return
    for excerpt in result.excerpts:
        assert 0 <= excerpt.start <= excerpt.end  # a coding either fits its text or is reported


@FUZZ
@given(
    start=st.one_of(st.integers(-10, 40), st.text(max_size=5)),
    end=st.one_of(st.integers(-10, 40), st.text(max_size=5)),
    guid=st.text(max_size=40),
    color=st.text(max_size=9),
)
def test_odd_attribute_values_never_crash(tmp_path_factory, start, end, guid, color):
    from xml.sax.saxutils import quoteattr

    xml = (
        PROJECT_XML.replace('startPosition="5"', f"startPosition={quoteattr(str(start))}")
        .replace('endPosition="10"', f"endPosition={quoteattr(str(end))}")
        .replace('"33333333-3333-3333-3333-333333333333"', quoteattr(guid), 1)
        .replace('color="#0f0"', f"color={quoteattr(color)}")
    )
    path = _zip(tmp_path_factory.mktemp("fuzz") / "p.qdpx", {"project.qde": xml.encode("utf-8", "surrogatepass"), "sources/t.txt": TEXT})
    try:
        result = read_qdpx(path)
    except ImportFailed:
        return
    for excerpt in result.excerpts:
        assert TEXT[excerpt.start : excerpt.end] == excerpt.quote


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_zip_bytes_never_crash(tmp_path_factory, flips):
    folder = tmp_path_factory.mktemp("fuzz")
    good = _zip(folder / "good.qdpx", {"project.qde": PROJECT_XML, "sources/t.txt": TEXT})
    data = bytearray(good.read_bytes())
    for at, value in flips:
        data[at % len(data)] = value
    bad = folder / "bad.qdpx"
    bad.write_bytes(bytes(data))
    try:
        read_qdpx(bad)
    except ImportFailed as err:
        assert str(err)
