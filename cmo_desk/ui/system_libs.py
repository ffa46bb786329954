"""Before Qt starts on Linux: the X11 libraries its window system plugin needs.

On a fresh Debian or Ubuntu Qt aborts with a long message about the "xcb" plugin. The desk checks
first and prints one line naming the packages to install. No Qt is imported here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

# shared library -> Debian/Ubuntu package that provides it
XCB_LIBRARIES = (
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libEGL.so.1", "libegl1"),
    ("libGL.so.1", "libgl1"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
)


def uses_x11(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    env = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux":
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0] in ("xcb", "")
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def missing_packages(load: Callable[[str], object] | None = None) -> list[str]:
    """Packages whose library cannot be loaded (by ``load``, else ctypes), in install order."""
    if load is None:
        import ctypes  # (only where X11 is used: not for offscreen, Wayland or other systems)

        load = ctypes.CDLL
    missing = []
    for library, package in XCB_LIBRARIES:
        try:
            load(library)
        except OSError:
            missing.append(package)
    return missing


def missing_message(packages: list[str]) -> str:
    from cmo_desk.domain.i18n import tr

    return tr("CMO Desk cannot open its window: system libraries that Qt needs are missing. "
              "Install them with: sudo apt-get install {packages}").format(
        packages=" ".join(packages))
