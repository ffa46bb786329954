"""A file's original bytes are kept once, whatever the number of times they are put."""

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
