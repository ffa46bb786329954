"""Recognise text (OCR) for the open study, in the background with progress and cancel."""

from __future__ import annotations

from typing import Any

from cmo_desk.domain.i18n import tr
from cmo_desk.services import recognition
from cmo_desk.services.session import Session
from cmo_desk.ui.desk_host import DeskHost


def language_names() -> dict[str, str]:
    return {
        "eng": tr("English"), "spa": tr("Spanish"), "fra": tr("French"),
        "por": tr("Portuguese"), "rus": tr("Russian"), "ukr": tr("Ukrainian"),
        "chi_sim": tr("Chinese (simplified)"), "ara": tr("Arabic"),
    }


def language_choices() -> list[tuple[str, str]]:
    """(languages joined with '+', what the user reads), the usual choice first."""
    available = recognition.available_languages()
    names = language_names()
    choices: list[tuple[str, str]] = []
    default = [c for c in recognition.DEFAULT_LANGUAGES if c in available]
    if len(default) > 1:
        choices.append(("+".join(default), " + ".join(names[c] for c in default)))
    choices += [(code, names.get(code, code)) for code in available]
    return choices


def documents_to_recognise(session: Session, study_id: str) -> list[Any]:
    """The study's documents that need OCR; if none does, its PDFs (to recognise again)."""
    docs = session.store.list("document", study_id=study_id)
    needing = [d for d in docs if d.needs_ocr]
    return needing or [d for d in docs if d.media_type == "application/pdf" and d.ocr_confidence]


def recognise_study(window: DeskHost, study_id: str) -> Any:
    docs = documents_to_recognise(window.session, study_id)
    if not docs:
        window.dialogs.error(tr("This study has no scanned PDF to recognise."))
        return None
    choices = language_choices()
    if not choices:
        window.dialogs.error(recognition.how_to_install())
        return None
    langs = window.dialogs.choose_item(tr("Recognise text"),
                                       tr("Language of the scanned pages:"), choices)
    if not langs:
        return None
    ids = [d.id for d in docs]

    def work(session: Session, progress: Any, cancelled: Any) -> Any:
        return [recognition.recognise_document(session, doc_id, langs.split("+"),
                                               progress=progress, cancel=cancelled)
                for doc_id in ids]

    def done(results: list[recognition.RecognitionResult]) -> None:
        window.statusBar().showMessage(" ".join(r.summary() for r in results), 20000)
        unplaced = sum(len(r.unplaced) for r in results)
        if unplaced:
            window.dialogs.error(results[-1].summary())

    return window.run_task(tr("Recognising text"), work, done)
