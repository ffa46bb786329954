"""new / demo / info / dump through the command line, as a user types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmo_desk.cli.main import run


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cmo_desk", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_demo_then_info_shows_both_coders_and_their_work(tmp_path: Path) -> None:
    path = tmp_path / "d.cmo"
    assert cli("demo", str(path)).returncode == 0
    result = cli("info", str(path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    for key in ("project_id", "schema_version", "studies", "documents", "excerpts", "cmocs",
                "consensus_cmocs", "codes", "coders", "conflicts"):
        assert key in info
    assert sorted(info["coders"]) == ["Lan Nguyen", "Sam Okafor"]
    assert 4 <= info["studies"] <= 6 and info["documents"] == info["studies"]
    assert info["excerpts"] > 10 and info["cmocs"] >= 6 and info["consensus_cmocs"] >= 1
    assert info["conflicts"] == 0


def test_dump_is_byte_identical_across_runs(demo_path: Path) -> None:
    first = cli("dump", str(demo_path))
    second = cli("dump", str(demo_path))
    assert first.returncode == 0 and first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert len(data["cmoc"]) >= 6


def test_new_with_coder_and_title(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "review.cmo"
    assert run(["new", str(path), "--title", "Peer review", "--coder", "Ana"]) == 0
    assert run(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert info["title"] == "Peer review" and info["coders"] == ["Ana"] and info["codes"] > 40


@pytest.mark.parametrize("args, words", [
    (["info", "{tmp}/missing.cmo"], "does not exist"),
    (["new", "{tmp}/nofolder/x.cmo"], "does not exist"),
    (["new", "{tmp}/t.cmo", "--template", "{tmp}/bad.json"], "not valid JSON"),
    (["new", "{tmp}/t.cmo", "--coder", "  "], "coder name is empty"),
    (["info", "{tmp}/bad.json"], "not a CMO Desk project"),
])
def test_bad_input_is_one_line_no_traceback_and_writes_nothing(
        tmp_path: Path, args: list[str], words: str) -> None:
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli(*(a.format(tmp=tmp_path) for a in args))
    assert result.returncode != 0
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_existing_project_is_not_overwritten(demo_path: Path) -> None:
    before = demo_path.read_bytes()
    result = cli("new", str(demo_path))
    assert result.returncode != 0 and "already exists" in result.stderr
    assert demo_path.read_bytes() == before


def test_coder_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "p.cmo"
    assert cli("new", str(path), env={"CMO_DESK_CODER": "Wei Zhang"}).returncode == 0
    assert json.loads(cli("info", str(path), "--json").stdout)["coders"] == ["Wei Zhang"]


def test_the_desk_knows_every_subcommand_without_loading_them() -> None:
    from cmo_desk.cli import COMMAND_NAMES
    from cmo_desk.cli.main import build_parser

    parser = build_parser()
    registered = next(a.choices for a in parser._actions if getattr(a, "choices", None))
    assert set(registered) == COMMAND_NAMES
    # each command is registered by the module the table names, so it alone is imported
    from cmo_desk.cli import COMMAND_MODULES

    for module in set(COMMAND_MODULES.values()):
        parser = build_parser([module])
        registered = next(a.choices for a in parser._actions if getattr(a, "choices", None))
        assert set(registered) == {c for c, m in COMMAND_MODULES.items() if m == module}


def test_messages_follow_the_computers_language(demo_path: Path) -> None:
    """A coder on a Chinese system reads the command line's messages in Chinese; --lang and
    CMO_DESK_LANG still win."""
    system = {"LANG": "zh_CN.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "CMO_DESK_LANG": ""}
    chinese = cli("new", str(demo_path), env=system)
    english = cli("new", str(demo_path), env={**system, "LANG": "C.UTF-8"})
    assert chinese.returncode != 0 and english.returncode != 0
    assert "already exists" in english.stderr
    assert "already exists" not in chinese.stderr and chinese.stderr.strip()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.stderr), chinese.stderr
    assert "already exists" in cli("new", str(demo_path), "--lang", "en", env=system).stderr
    assert "already exists" in cli("new", str(demo_path), env={**system, "CMO_DESK_LANG": "en"}).stderr


def test_info_does_not_count_a_study_folded_into_its_duplicate(tmp_path: Path) -> None:
    """`cmo-desk duplicates --accept` folds a study into its twin: `info` counts one study."""
    from cmo_desk.services import coding
    from cmo_desk.services.session import Session

    path = tmp_path / "p.cmo"
    assert cli("new", str(path), "--coder", "Ana").returncode == 0
    with Session.open(path, coder="Ana") as s:
        coding.add_study(s, {"label": "Kunming 2020", "title": "Peer outreach in Kunming",
                             "year": 2020, "doi": "10.1000/k.2020"})
        coding.add_study(s, {"label": "Kunming copy", "title": "Peer outreach in Kunming",
                             "year": 2020, "doi": "10.1000/K.2020"})
    before = json.loads(cli("info", str(path), "--json").stdout)
    proposals = json.loads(cli("duplicates", str(path), "--json").stdout)["proposals"]
    assert [p["kind"] for p in proposals] == ["study"]
    assert cli("duplicates", str(path), "--accept", "1").returncode == 0
    after = json.loads(cli("info", str(path), "--json").stdout)
    assert (before["studies"], after["studies"]) == (2, 1)
    assert after["codes"] == before["codes"]


def _has_latin_words(text: str) -> list[str]:
    """English words left in a message (names, paths and CMOC are allowed)."""
    import re

    allowed = {"CMOC", "CMOCs", "cmo", "Lan", "Nguyen", "Sam", "Okafor"}
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in allowed]


def test_new_demo_and_info_speak_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Chinese coder reads what new, demo and info report in Chinese, with every figure kept."""
    from cmo_desk.domain.i18n import set_language

    try:
        demo = tmp_path / "d.cmo"
        assert run(["--lang", "zh_CN", "demo", str(demo)]) == 0
        said = capsys.readouterr().out.replace(str(demo), "")
        assert not _has_latin_words(said), said
        assert "5" in said and "27" in said and "Lan Nguyen" in said and "Sam Okafor" in said
        fresh = tmp_path / "综述.cmo"
        assert run(["--lang", "zh_CN", "new", str(fresh), "--coder", "张伟"]) == 0
        said = capsys.readouterr().out
        assert str(fresh) in said and "54" in said
        assert not _has_latin_words(said.replace(str(fresh), "")), said
        assert run(["--lang", "zh_CN", "info", str(demo)]) == 0
        lines = capsys.readouterr().out.splitlines()
        body = "\n".join(lines[1:])  # the first line is the project's own title
        assert not _has_latin_words(body), body
        assert len(lines) == 12 and "27" in body and "Lan Nguyen, Sam Okafor" in body
    finally:
        set_language("en")


def test_search_names_the_page_in_chinese(demo_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cmo_desk.domain.i18n import set_language

    try:
        assert run(["--lang", "zh_CN", "search", str(demo_path), "美沙酮"]) == 0
    finally:
        set_language("en")
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("Kunming 2016  第 ") for line in lines), lines
    assert "[美沙酮]" in lines[0] and " p." not in lines[0]


@pytest.mark.parametrize("args", [
    ["--lang", "zh_CN", "export", "DEMO"],                                  # -o missing
    ["export", "DEMO", "-o", "x.docx", "--table", "bogus", "--lang", "zh_CN"],  # not a table
    ["--lang=zh_CN", "info", "DEMO", "--bogus"],                            # not an option
])
def test_a_mistyped_command_is_told_in_chinese_on_one_line(
        demo_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    from cmo_desk.domain.i18n import set_language

    try:
        with pytest.raises(SystemExit) as stop:
            run([str(demo_path) if a == "DEMO" else a for a in args])
    finally:
        set_language("en")
    assert stop.value.code == 2
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and said.startswith("cmo-desk: "), said
    typed = {"desk", "help", "export", "info", "bogus", "output", "docx", "table", "evidence", "studies",
             "excerpts", "theories", "matrix", "ledger"}  # what the coder typed and may type
    words = [w for w in _has_latin_words(said) if w not in typed]
    assert not words, said
    assert any("\u4e00" <= ch <= "\u9fff" for ch in said), said
