"""A file that cannot be opened is described by what is wrong and, separately, what to do: the
advice naming the latest good backup replaces the generic one in every language, and the problem
is never cut short by words that happen to be in the file's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmo_desk.domain.errors import DamagedProjectError
from cmo_desk.domain.i18n import set_language
from cmo_desk.services import backups
from cmo_desk.store.project_store import ProjectStore
from cmo_desk.store.site import Site


@pytest.fixture
def backed_up(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "Old Restore points"  # words the message's advice also begins with
    folder.mkdir()
    path = folder / "review Choose a .cmo.cmo"
    ProjectStore.create(path, title="Harm reduction", site=Site(site_id="s1")).close()
    return path, backups.backup_before(path, "manual")


@pytest.mark.parametrize("damage", [b"", b"meeting notes, not a project" * 40])
def test_the_whole_path_and_the_backup_are_named(backed_up: tuple[Path, Path],
                                                 damage: bytes) -> None:
    path, good = backed_up
    path.write_bytes(damage)
    with pytest.raises(DamagedProjectError) as caught:
        ProjectStore.open(path, site=Site(site_id="s1"))
    message = str(caught.value)
    assert str(path) in message  # the problem is whole, path and all
    assert "not a CMO Desk project" in message
    assert good.name in message and "cmo-desk restore" in message
    assert "'cmo-desk backups'" not in message  # the precise advice replaced the generic one
    assert caught.value.latest_backup == good
    assert path.read_bytes() == damage


def test_in_chinese_the_generic_advice_gives_way_to_the_backup(
        backed_up: tuple[Path, Path]) -> None:
    path, good = backed_up
    path.write_bytes(b"")
    set_language("zh_CN")
    try:
        with pytest.raises(DamagedProjectError) as caught:
            ProjectStore.open(path, site=Site(site_id="s1"))
    finally:
        set_language("en")
    message = str(caught.value)
    assert "空文件" in message and good.name in message and "cmo-desk restore" in message
    assert "'cmo-desk backups'" not in message
