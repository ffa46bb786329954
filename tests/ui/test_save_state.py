"""The desk never says "Saved" for what the disk refused: it says Not saved, keeps the text, and
saves it once the disk allows."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import event

from cmo_desk.store import locking


def _cap_growth(engine: Any) -> Any:
    def cap(dbapi_conn: Any, _record: object) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA max_page_count={cur.execute('PRAGMA page_count').fetchone()[0]}")
        cur.close()

    event.listen(engine, "connect", cap)
    engine.dispose()
    return cap


def test_typing_on_a_full_disk_says_not_saved_keeps_the_text_and_saves_later(
        open_window: Any, qtbot: Any, dialogs: Any) -> None:
    window = open_window()
    store = window.session.store
    cmoc_id = window.cmoc_panel.current_id()
    assert cmoc_id is not None
    before = store.get("cmoc", cmoc_id).context
    cap = _cap_growth(store.engine)
    box = window.cmoc_panel.texts["context"]
    qtbot.mouseClick(box.viewport(), Qt.MouseButton.LeftButton)
    pasted = "Peer workers trusted by clients 信任 😀 " * 200
    QApplication.clipboard().setText(pasted)
    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, " and typed")
    typed = pasted + " and typed"
    qtbot.waitUntil(lambda: not box.has_pending(), timeout=5000)
    assert "Not saved" in window.saved_label.text()
    assert "Saved at" not in window.saved_label.text()
    assert len(dialogs.errors) == 1 and "full" in dialogs.errors[0]
    assert box.toPlainText() == typed
    assert store.get("cmoc", cmoc_id).context == before
    # more typing while the disk is full is kept in order, and no second dialog
    qtbot.keyClicks(box, " more")
    qtbot.waitUntil(lambda: not box.has_pending(), timeout=5000)
    assert len(dialogs.errors) == 1
    assert "Not saved" in window.saved_label.text()
    # a retry while the disk is still full changes nothing
    window._retry_saves()
    assert "Not saved" in window.saved_label.text()
    # space is freed: the next retry saves everything, in order
    event.remove(store.engine, "connect", cap)
    store.engine.dispose()
    qtbot.waitUntil(lambda: not window.actions.unsaved, timeout=10_000)
    assert "Saved at" in window.saved_label.text()
    assert store.get("cmoc", cmoc_id).context == (typed + " more").strip()


def test_closing_with_unsaved_changes_asks_first(open_window: Any, qtbot: Any,
                                                 dialogs: Any) -> None:
    window = open_window()
    store = window.session.store
    _cap_growth(store.engine)
    box = window.cmoc_panel.texts["context"]
    qtbot.mouseClick(box.viewport(), Qt.MouseButton.LeftButton)
    QApplication.clipboard().setText("x" * 40000)  # more than the free pages hold
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not box.has_pending(), timeout=5000)
    asked: list[str] = []
    dialogs.confirm = lambda message: asked.append(message) or False  # type: ignore[method-assign]
    window.close()
    assert asked and "could not be saved" in asked[0]
    assert window.isVisible()
    dialogs.confirm = lambda message: True  # type: ignore[method-assign]
    window.close()


def test_when_another_desk_takes_the_lock_this_desk_turns_read_only(
        open_window: Any, qtbot: Any, dialogs: Any) -> None:
    window = open_window()
    session = window.session
    lock_file = locking.lock_path_for(session.path)
    info = locking.read_lock(session.path)
    assert info is not None
    # another laptop judged the lock abandoned and took it
    lock_file.write_text(lock_file.read_text().replace(info.token, "f" * 32).replace(
        info.host, "other-laptop"))
    window._refresh_lock()
    assert session.read_only
    assert dialogs.errors and "took over" in dialogs.errors[-1]
    assert window.banner.isVisible() and "read-only" in window.banner.text()
    assert not window._can_code()
    assert lock_file.exists()  # the other desk's lock is left alone
