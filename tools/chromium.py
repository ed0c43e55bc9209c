"""What the browser tests and the PDF build share: the system's Chromium, and a local server.

Playwright never downloads a browser here: it runs the Chromium the system has (Debian's
``chromium`` package, or Google Chrome on a CI runner), or the one ``$CHROMIUM`` names. The
built pages are served from 127.0.0.1 by :func:`serve`.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

#: Flags for Chromium as root in a sandbox without network (see the README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Executables tried in order on the ``PATH`` when ``$CHROMIUM`` is not set.
NAMES = ("chromium", "chromium-browser", "google-chrome")

#: What to do when none is found.
MISSING = (
    "Chromium is needed for the browser tests and the PDF: install it (Debian: apt-get install "
    "chromium chromium-driver) or set $CHROMIUM to its executable."
)


def find_chromium() -> str | None:
    """The Chromium executable: ``$CHROMIUM``, else the first of :data:`NAMES` on the ``PATH``."""
    return os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, NAMES)), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1, on a free port; yield its address, ``http://host:port``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
