"""The store is split into rooms named for their job, and the old import paths still lead to the same
objects (sizes, and no module reaching into another's private helpers: tests/test_package_shape.py)."""

from __future__ import annotations


def test_the_old_import_paths_lead_to_the_rooms() -> None:
    from cmo_desk.store import fileinfo, opening, project_store, projection, search, unit_of_work

    assert project_store.UnitOfWork is unit_of_work.UnitOfWork
    assert project_store.inspect_file is fileinfo.inspect_file is opening.inspect_file
    assert project_store.check_compatible is fileinfo.check_compatible
    assert project_store.HEAD_REVISION == fileinfo.HEAD_REVISION
    assert project_store.KNOWN_REVISIONS == fileinfo.KNOWN_REVISIONS
    assert project_store.FORMAT_VERSION == fileinfo.FORMAT_VERSION
    assert project_store.reproject_many is projection.reproject_many
    assert project_store.iter_chunks is projection.iter_chunks
    assert project_store.SearchHit is search.SearchHit
    assert project_store._make_engine is opening.make_engine
    assert project_store._run_migrations is opening.run_migrations
    assert project_store._create_schema is opening.create_schema
    for name in project_store.__all__:
        assert hasattr(project_store, name), name
