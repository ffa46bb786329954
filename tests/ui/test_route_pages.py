"""A review team's route from a study's text to the published tables: the page a quote cites is
a page the study has, never one made up."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cmo_desk.exporters.tables import ExportOptions
from cmo_desk.services.demo import CODER_A
from cmo_desk.services.exporting import preview_table
from cmo_desk.services.importing import import_paths
from cmo_desk.services.session import Session

from .realinput import mouse_select

TRANSCRIPT = ("Researcher: How did the outreach start?\n"
              "Ana: The peer workers came to the flats every evening, and people trusted them "
              "because they had used too.\n"
              "Researcher: And the clinic?\n"
              "Ana: Later some of us went to the clinic with them.\n")
QUOTE = "people trusted them because they had used too"


def _word_file(folder: Path) -> Path:
    import docx

    document = docx.Document()
    for line in TRANSCRIPT.splitlines():
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    path = folder / "Interview Ana.docx"
    path.write_bytes(buf.getvalue())
    return path


def _open_study(window: Any, qtbot: Any, name: str) -> None:
    proxy, view = window.study_proxy, window.study_view
    row = next(r for r in range(proxy.rowCount())
               if name in str(proxy.index(r, 0).data()) + str(proxy.index(r, 0).data(Qt.ItemDataRole.ToolTipRole)))
    view.scrollTo(proxy.index(row, 0))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualRect(proxy.index(row, 0)).center())
    qtbot.waitUntil(lambda: QUOTE in window.doc_view.text())


def test_a_quote_from_a_text_without_pages_cites_no_page_in_the_desk_or_the_tables(
        open_window: Any, project: Path, tmp_path: Path, qtbot: Any) -> None:
    word, plain = _word_file(tmp_path), tmp_path / "Interview Li.txt"
    plain.write_text(TRANSCRIPT.replace("Ana", "Li"), encoding="utf-8")
    with Session.open(project, coder=CODER_A) as session:
        import_paths(session, [word, plain])
    window = open_window()
    for name in ("Interview Ana", "Interview Li"):
        _open_study(window, qtbot, name)
        text = window.doc_view.text()
        start = text.index(QUOTE)
        before = {e.id for e in window.session.store.list("excerpt")}
        mouse_select(window.doc_view, start, start + len(QUOTE))
        window.doc_view.setFocus()
        qtbot.keyClick(window.doc_view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
        new = [e for e in window.session.store.list("excerpt") if e.id not in before]
        assert [e.quote for e in new] == [QUOTE]
        assert new[0].page is None, f"{name}: the text has no pages, yet p. {new[0].page} is kept"
        shown = window.excerpt_panel.model
        row = shown.row_of(new[0].id)
        assert shown.index(row, 1).data() in ("", None)  # the Page column stays empty
    table = preview_table(window.session, ExportOptions(table="excerpts", records="coders"))
    cited = {r["quote"]: r["page"] for _, r in table.iter_rows() if r["quote"] == QUOTE}
    assert cited == {QUOTE: ""}


# -- importing from the desk says what it did not import ---------------------------------------

DAMAGED_BIB = """@article{ok1,
 title = {Peer work in Hai Phong},
 author = {Nguyen, Lan},
 year = {2019}}
@article{broken,
 title = {Peer work two, year = {2019}
@article{ok2,
 title = {Peer work in Odessa},
 author = {Amin, N},
 year = {2020}}
"""
DUPLICATE_RIS = """TY  - JOUR
AU  - Example, B.
TI  - Women who use drugs as peer navigators for HIV treatment (illustrative study).
PY  - 2019
ER  - 
"""


def test_a_desk_import_says_which_records_it_could_not_read_and_which_it_skipped(
        open_window: Any, qtbot: Any, dialogs: Any, tmp_path: Path) -> None:
    bib, ris = tmp_path / "zotero.bib", tmp_path / "embase.ris"
    bib.write_text(DAMAGED_BIB, encoding="utf-8")
    ris.write_text(DUPLICATE_RIS, encoding="utf-8")
    window = open_window(study="Hanoi 2019")
    shown: list[str] = []
    dialogs.info = shown.append
    before = window.session.store.count("study")
    task = window.start_import([str(bib), str(ris)])
    with qtbot.waitSignal(task.signals.ended, timeout=20000):
        pass
    qtbot.waitUntil(lambda: hasattr(window, "last_import"), timeout=5000)
    assert window.session.store.count("study") == before + 2
    told = "\n".join(shown + dialogs.errors)
    assert "zotero.bib: 2 of 3 records read" in told
    assert "broken (line 5)" in told  # the damaged entry, by its key and line
    assert ("embase.ris: Women who use drugs as peer navigators for HIV treatment "
            "(illustrative study). (Hanoi 2019)") in told
