"""The right of the desk: the open study's form, its CMOCs and its excerpts, one tab each."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from cmo_desk.domain.i18n import tr
from cmo_desk.ui.cmoc_panel import CmocPanel
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.opening_state import page_for_later
from cmo_desk.ui.study_form import StudyForm
from cmo_desk.ui.coding_actions import CodingActions

if TYPE_CHECKING:
    from cmo_desk.ui.excerpt_panel import ExcerptPanel


class CodingPane(QTabWidget):
    #: the Excerpts tab's panel, made by ``complete()`` (the first frame shows the CMOCs)
    excerpt_panel: ExcerptPanel

    def __init__(self, actions: CodingActions, dialogs: Dialogs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._actions, self._dialogs = actions, dialogs
        self.form_holder, self._form_layout = page_for_later()
        #: built when the first study opens, from the project's template
        self.study_form: StudyForm | None = None
        self.cmoc_panel = CmocPanel(actions, dialogs)
        self._excerpts_holder, self._excerpts_layout = page_for_later()
        self.addTab(self.form_holder, tr("Study form"))
        self.addTab(self.cmoc_panel, tr("CMOCs"))
        self.addTab(self._excerpts_holder, tr("Excerpts"))
        self.setCurrentWidget(self.cmoc_panel)

    def complete(self) -> ExcerptPanel:
        """Make the Excerpts tab's panel, once."""
        if not hasattr(self, "excerpt_panel"):
            from cmo_desk.ui.excerpt_panel import ExcerptPanel

            self.excerpt_panel = ExcerptPanel(self._actions, self._dialogs)
            self._excerpts_layout.addWidget(self.excerpt_panel)
        return self.excerpt_panel

    def ensure_form(self, template: Any, save: Callable[[str, Any, Any], None]) -> StudyForm:
        if self.study_form is None:
            self.study_form = StudyForm(template, save)
            self._form_layout.addWidget(self.study_form)
        return self.study_form

    def show_cmoc(self, cmoc_id: str) -> None:
        """Bring the CMOCs tab forward with this CMOC selected."""
        self.setCurrentWidget(self.cmoc_panel)
        self.cmoc_panel.select_cmoc(cmoc_id)
