"""A Chinese-speaking team at 1366×768: the desk's own words are Chinese, nothing shown raw or cut."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest

from cmo_desk.domain.i18n import set_language

from .realinput import type_with_input_method

# Names that stay as they are in Chinese writing too
KEPT = {"NSP", "OAT", "ART"}


@pytest.fixture
def chinese() -> Iterator[None]:
    set_language("zh_CN")
    try:
        yield
    finally:
        set_language("en")


def _items(tree: Any) -> list[Any]:
    stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    out = []
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(item.child(i) for i in range(item.childCount()))
    return out


def test_every_starter_code_is_named_in_chinese(open_window: Any, qtbot: Any, chinese: None) -> None:
    window = open_window(study="Hanoi 2019")
    panel = window.codebook
    names = [item.text(0) for item in _items(panel.tree)]
    assert len(names) >= 54
    english = [n for n in names if n not in KEPT and not re.search("[\u4e00-\u9fff]", n)]
    assert not english, english
    # typing a Chinese word in the codebook's filter finds the codes named with it
    type_with_input_method(panel.filter, "同伴")
    qtbot.wait(50)
    shown = [i.text(0) for i in _items(panel.tree) if not i.isHidden() and i.childCount() == 0]
    assert shown and all("同伴" in n for n in shown), shown
    QTest.keyClick(panel.filter, Qt.Key.Key_Escape)


def test_the_page_gutter_says_the_page_in_chinese_and_whole(open_window: Any, qtbot: Any,
                                                             chinese: None) -> None:
    window = open_window(study="Hanoi 2019")
    view = window.doc_view
    qtbot.wait(50)
    assert view.page_label(2) == "第 2 页"
    image = view.gutter.grab().toImage()
    background = image.pixelColor(image.width() // 2, image.height() - 2)
    inked = [x for x in range(image.width()) for y in range(min(image.height(), 60))
             if image.pixelColor(x, y) != background]
    assert inked, "no page number drawn"
    assert min(inked) >= 2, (min(inked), image.width())  # the label begins inside the gutter
    # a 300-page report's last page number fits the same gutter
    widest = QFontMetrics(view.gutter_font()).horizontalAdvance(view.page_label(999))
    assert widest <= view.gutter.width() - 6, (widest, view.gutter.width())


def test_a_study_by_chinese_authors_is_headed_with_deng(open_window: Any, project: Any,
                                                        chinese: None) -> None:
    from cmo_desk.services import coding
    from cmo_desk.services.session import Session

    with Session.open(project, coder="Lan Nguyen") as session:
        coding.add_study(session, {"label": "张伟 2021", "year": 2021, "journal": "中国艾滋病性病",
                                   "title": "同伴导航员对丙肝治疗的影响 🧪",
                                   "authors": ["张伟", "欧阳娜娜", "Smith, John", "李娜"]})
    window = open_window(study="张伟 2021")
    meta = window.study_meta.text()
    assert "张伟, 欧阳娜娜, Smith, John等" in meta and "et al." not in meta, meta
    assert window.study_title.text() == "同伴导航员对丙肝治疗的影响 🧪"


def test_a_chinese_coders_initials_fit_the_coding_stripe(open_window: Any, project: Any, qtbot: Any,
                                                         chinese: None) -> None:
    """欧阳娜娜's initials are two wide characters: the stripe's head shows what fits (欧), not a
    character cut in half."""
    from cmo_desk.services import coding
    from cmo_desk.services.session import Session
    from cmo_desk.ui.coding_stripes import LANE

    with Session.open(project, coder="欧阳娜娜") as session:
        study = next(s for s in session.store.list("study") if s.label == "Hanoi 2019")
        doc = next(d for d in session.store.list("document") if d.study_id == study.id)
        coding.add_excerpt(session, doc.id, 0, 40, "context", [])
    window = open_window(study="Hanoi 2019")
    window.others_action.trigger()  # View → Show other coders' work
    qtbot.wait(50)
    stripes = window.doc_view.stripes
    theirs = [h for _, h in stripes.bars() if h.coder_name == "欧阳娜娜"]
    assert theirs, "the other coder's excerpt is not shown"
    shown = stripes.head_text(theirs[0])
    assert shown == "欧", shown
    assert QFontMetrics(stripes.head_font()).horizontalAdvance(shown) <= LANE - 1
    assert stripes.head_text(replace(theirs[0], coder_initials="LN")) == "LN"
