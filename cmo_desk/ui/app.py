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
    from cmo_desk.domain.i18n import LANGUAGES, tr, translate_argparse

    translate_argparse()
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
    from cmo_desk.ui.qt_startup import load_qt

    load_qt()  # (first: every module after it loads sooner)
    from cmo_desk.domain.errors import Cancelled, CmoDeskError
    from cmo_desk.domain.storage import storage_error
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
    from PySide6.QtWidgets import QApplication

    from cmo_desk.ui.theme import APP_ARGUMENTS, apply_style_sheet, apply_theme

    existing = QApplication.instance()
    app = existing or QApplication([sys.argv[0] if sys.argv else "cmo-desk", *APP_ARGUMENTS])
    app.setApplicationName("CMO Desk")
    app.setOrganizationName("cmo-desk")
    language.install_qt_translations(app)  # type: ignore[arg-type]
    apply_theme(app, style_sheet=False, style=existing is not None)  # type: ignore[arg-type]
    from cmo_desk.ui import none_guard

    none_guard.install()
    from cmo_desk.ui.main_window import MainWindow

    # Paint the real window first, closed to input and saying what opens; the store (and the
    # database library) loads on the next turns of the event loop.
    target = Path(args.project) if args.project else demo_path()
    window = MainWindow(None, settings, opening=target.name)
    apply_style_sheet(app)  # type: ignore[arg-type]  # (built first, the window is styled once)
    window.owns_session = True  # type: ignore[attr-defined]
    language.watch_cjk_fonts(window)
    quit_when_shown = bool(os.environ.get(QUIT_WHEN_SHOWN))
    exit_code = [0]

    def stamp(what: str) -> None:
        if quit_when_shown:
            print(f"{what}_s={time.perf_counter() - _STARTED:.3f}\n"
                  f"{what}_cpu_s={time.process_time():.3f}", flush=True)

    def leave(code: int) -> None:
        exit_code[0] = code
        window.close()
        app.exit(code)

    def painted() -> None:
        stamp("window_shown")
        window.complete()  # before anything can be typed, clicked or asked
        QTimer.singleShot(0, open_project)

    def open_project() -> None:
        import sqlite3  # (with the store, after the first paint)

        try:
            session, _first_run = _open_session(args, settings, interactive=not headless,
                                                parent=window)
        except Cancelled:
            leave(2)  # the user saw the problem and chose to leave the damaged file alone
            return
        except (CmoDeskError, OSError, sqlite3.Error) as err:
            # (a full, read-only or failing disk in plain words, as the command line says it)
            message = str(err if isinstance(err, CmoDeskError) else
                          storage_error(err, target) or err)
            if headless:
                print(message, file=sys.stderr)
            else:
                from PySide6.QtWidgets import QMessageBox

                QMessageBox.critical(window, "CMO Desk", message)
            leave(2)
            return
        except BaseException:
            leave(2)  # never left saying "Opening…" with nothing to follow
            raise
        window.attach(session)  # type: ignore[arg-type]
        stamp("lists_shown")
        if not headless:
            settings.add_recent(session.path)  # type: ignore[attr-defined]
            try:
                settings.save()
            except OSError:
                pass
        QTimer.singleShot(0, then_study)

    def then_study() -> None:
        if not (args.study and window.open_study_by_label(args.study)) and \
                not window.open_last_study():
            _open_first_study(window)
        if args.screenshot:
            QTimer.singleShot(50, lambda: _grab(window, args.screenshot))
            return
        stamp("study_shown")
        if quit_when_shown:
            window.close()
            app.quit()

    if args.screenshot:
        window.resize(1366, 768)
    window.show()
    window.repaint()
    QTimer.singleShot(0, painted)
    code = int(app.exec())
    if args.screenshot and not exit_code[0]:
        return 0 if Path(args.screenshot).exists() else 1
    return exit_code[0] or code


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


def _open_or_rescue(path: Path, interactive: bool, coder: str | None = None,
                    parent: object = None) -> object:
    """Open a project; a damaged one is offered its latest good backup when someone is there."""
    from cmo_desk.ui.backups_view import open_with_recovery
    from cmo_desk.ui.dialogs import Dialogs

    if hasattr(parent, "study_title"):
        from cmo_desk.ui.opening_state import announce_upgrade

        announce_upgrade(parent, path)  # type: ignore[arg-type]
    return open_with_recovery(path, coder, Dialogs(parent) if interactive else None)  # type: ignore[arg-type]


def _open_session(args: argparse.Namespace, settings: object,
                  interactive: bool, parent: object = None) -> tuple[object, bool]:
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
                session = _open_or_rescue(path, interactive, name, parent)
            else:
                probe = _open_or_rescue(path, interactive, None, parent)
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
