"""Starting the desk: options, the first-run name, the demo project, and offscreen screenshots."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

_STARTED = time.perf_counter()

DEMO_CODER = "Lan Nguyen"
# Benchmarks set this to measure start-up: the desk prints the time and quits once shown.
QUIT_WHEN_SHOWN = "CMO_DESK_QUIT_WHEN_SHOWN"


def build_parser() -> argparse.ArgumentParser:
    from cmo_desk.domain.i18n import LANGUAGES, tr

    p = argparse.ArgumentParser(prog="cmo-desk", description=tr(
        "The CMO Desk coding desk. Without a project, the demo project opens."))
    p.add_argument("project", nargs="?", help=tr("project file (.cmo) to open or create"))
    p.add_argument("--coder", help=tr("your name, as written beside your coding"))
    p.add_argument("--screenshot", metavar="OUT.png",
                   help=tr("render the window to a PNG file and exit"))
    p.add_argument("--study", metavar="LABEL", help=tr("open this study first"))
    p.add_argument("--lang", help=tr("language of the desk: {languages}").format(
        languages=", ".join(LANGUAGES)))
    return p


def demo_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("cmo-desk", appauthor=False)) / "demo.cmo"


def _pick_coder(args_coder: str | None, settings: object, interactive: bool,
                project_coders: list[str]) -> str:
    from cmo_desk.services.session import resolve_coder_name

    name = resolve_coder_name(args_coder) or getattr(settings, "coder_name", None)
    if name:
        return name
    if interactive:
        from cmo_desk.ui.dialogs import CoderNameDialog

        dlg = CoderNameDialog()
        if dlg.exec() and dlg.value():
            return dlg.value()
    return project_coders[0] if project_coders else DEMO_CODER


def run_desk(argv: list[str]) -> int:
    from cmo_desk.domain.errors import Cancelled, CmoDeskError
    from cmo_desk.services.settings import Settings
    from cmo_desk.ui import language

    settings = Settings.load()
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--lang")
    known, _ = pre.parse_known_args(argv)
    language.choose_language(known.lang, settings.language)
    args = build_parser().parse_args(argv)
    headless = bool(args.screenshot) or bool(os.environ.get(QUIT_WHEN_SHOWN))
    if args.screenshot and "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from cmo_desk.ui import system_libs

    if system_libs.uses_x11():
        missing = system_libs.missing_packages()
        if missing:
            print(system_libs.missing_message(missing), file=sys.stderr)
            return 3

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from cmo_desk.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "cmo-desk"])
    app.setApplicationName("CMO Desk")
    app.setOrganizationName("cmo-desk")
    language.install_qt_translations(app)  # type: ignore[arg-type]
    apply_theme(app)  # type: ignore[arg-type]
    from cmo_desk.ui import none_guard

    none_guard.install()

    try:
        session, first_run = _open_session(args, settings, interactive=not headless)
    except Cancelled:
        return 2  # the user saw the problem and chose to leave the damaged file alone
    except CmoDeskError as err:
        if headless:
            print(str(err), file=sys.stderr)
        else:
            QMessageBox.critical(None, "CMO Desk", str(err))
        return 2

    from cmo_desk.ui.main_window import MainWindow

    window = MainWindow(session, settings)
    window.owns_session = True
    language.watch_cjk_fonts(window)

    def open_first() -> None:
        if not (args.study and window.open_study_by_label(args.study)) and \
                not window.open_last_study():
            _open_first_study(window)

    if not headless:
        settings.add_recent(session.path)
        try:
            settings.save()
        except OSError:
            pass

    if args.screenshot:
        open_first()
        window.resize(1366, 768)
        window.show()
        for _ in range(3):
            app.processEvents()
        QTimer.singleShot(50, lambda: _grab(window, args.screenshot))
        app.exec()
        return 0 if Path(args.screenshot).exists() else 1

    # Paint the window and its lists first; the first study's text follows a moment later.
    window.show()
    quit_when_shown = bool(os.environ.get(QUIT_WHEN_SHOWN))
    if quit_when_shown:
        QTimer.singleShot(0, lambda: print(
            f"window_shown_s={time.perf_counter() - _STARTED:.3f}", flush=True))

    def then_study() -> None:
        open_first()
        if quit_when_shown:
            print(f"study_shown_s={time.perf_counter() - _STARTED:.3f}", flush=True)
            window.close()
            app.quit()

    QTimer.singleShot(0, then_study)
    return int(app.exec())


def _grab(window: object, out: str) -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    pixmap = window.grab()  # type: ignore[attr-defined]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    pixmap.save(out, "PNG")
    window.close()  # type: ignore[attr-defined]
    QApplication.quit()


def _open_first_study(window: object) -> None:
    proxy = window.study_proxy  # type: ignore[attr-defined]
    view = window.study_view  # type: ignore[attr-defined]
    for row in range(proxy.rowCount()):
        ix = proxy.index(row, 0)
        study = window.study_model.study(proxy.mapToSource(ix).row())  # type: ignore[attr-defined]
        if study and study.has_text:
            view.setCurrentIndex(ix)
            return
    if proxy.rowCount():
        view.setCurrentIndex(proxy.index(0, 0))


def _open_or_rescue(path: Path, interactive: bool, coder: str | None = None) -> object:
    """Open a project; a damaged one is offered its latest good backup when someone is there."""
    from cmo_desk.ui.backups_view import open_with_recovery
    from cmo_desk.ui.dialogs import Dialogs

    return open_with_recovery(path, coder, Dialogs(None) if interactive else None)


def _open_session(args: argparse.Namespace, settings: object,
                  interactive: bool) -> tuple[object, bool]:
    from cmo_desk.services.demo import build_demo
    from cmo_desk.services.projects import new_project
    from cmo_desk.services.session import Session

    first_run = not getattr(settings, "coder_name", None)
    if args.project:
        path = Path(args.project)
        if path.exists():
            from cmo_desk.services.session import resolve_coder_name

            name = resolve_coder_name(args.coder) or getattr(settings, "coder_name", None)
            if name:  # who is coding is known: open the file once
                session = _open_or_rescue(path, interactive, name)
            else:
                probe = _open_or_rescue(path, interactive)
                coders = [c.name for c in probe.coders() if c.name]
                probe.close()
                name = _pick_coder(args.coder, settings, interactive, coders)
                session = Session.open(path, coder=name)
        else:
            name = _pick_coder(args.coder, settings, interactive, [])
            session = new_project(path, coder=name)
    else:
        path = demo_path()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            build_demo(path).close()
        name = _pick_coder(args.coder, settings, interactive, [DEMO_CODER])
        session = Session.open(path, coder=name)
    if interactive and first_run and name:
        settings.coder_name = name  # type: ignore[attr-defined]
        try:
            settings.save()  # type: ignore[attr-defined]
        except OSError:
            pass
    return session, first_run
