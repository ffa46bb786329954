"""A file's original bytes are kept once, whatever the number of times they are put; the
change lists of many records are read at once as they would be one by one."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cmo_desk.store.project_store import ProjectStore


def test_the_same_bytes_are_kept_once(tmp_path: Path) -> None:
    data = b"%PDF-1.4 \x00\xff" * 1000
    other = b"another file"
    with ProjectStore.create(tmp_path / "p.cmo") as store:
        with store.unit_of_work(None) as uow:
            assert uow.put_blob(data) == hashlib.sha256(data).hexdigest()
            assert uow.put_blob(data) == hashlib.sha256(data).hexdigest()
        with store.unit_of_work(None) as uow:
            assert uow.put_blob(data) == hashlib.sha256(data).hexdigest()
            uow.put_blob(other)
            rows = uow.conn.exec_driver_sql(
                "SELECT sha256, size, data FROM blobs ORDER BY size").all()
    assert [tuple(r) for r in rows] == [
        (hashlib.sha256(other).hexdigest(), len(other), other),
        (hashlib.sha256(data).hexdigest(), len(data), data)]


def test_histories_read_at_once_are_those_read_one_by_one(tmp_path: Path) -> None:
    import pytest
    from sqlalchemy import event

    from cmo_desk.domain.errors import ValidationError

    with ProjectStore.create(tmp_path / "p.cmo") as store:
        with store.unit_of_work(None) as uow:
            old = uow.create("study", {"label": "Old", "title": "Peer 🙂 work"})
            plain = "not-a-uuid-id"
            uow.create("study", {"label": "Plain"}, id=plain)
        statements: list[str] = []
        event.listen(store.engine, "before_cursor_execute",
                     lambda *a: statements.append(a[2]))
        new = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1200)]
        with store.unit_of_work(None) as uow:
            uow.prefetch("study", [old, plain, *new, old])
            assert len([s for s in statements if "FROM changes" in s]) == 3  # 500 at a time
            with pytest.raises(ValidationError):
                uow.create("study", {"label": "Again"}, id=old)
            with pytest.raises(ValidationError):
                uow.create("study", {"label": "Again"}, id=plain)
            for sid in new[:3]:
                uow.create("study", {"label": sid[-3:]}, id=sid)
            assert uow.update("study", old, {"label": "Older"})
            assert len([s for s in statements if "FROM changes" in s]) == 3
        assert store.get("study", old).label == "Older"
        assert store.get("study", old).title == "Peer 🙂 work"
        assert store.count("study") == 2 + 3
