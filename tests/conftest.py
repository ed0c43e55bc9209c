"""Shared test configuration and fixtures."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

from browser import browser, site  # noqa: F401 (fixtures of the browser tests)

matplotlib.use("Agg")


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes, int | None]] = {}

    def do_GET(self) -> None:  # noqa: N802 (the name http.server requires)
        status, body, declared_length = self.routes.get(self.path, (404, b"not found", None))
        self.send_response(status)
        if declared_length != -1:  # -1: no Content-Length; the body ends when the connection closes
            self.send_header("Content-Length", str(declared_length if declared_length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, *args) -> None:
        pass


class LocalServer:
    """An HTTP server on 127.0.0.1 whose responses the test chooses."""

    def __init__(self, server: http.server.ThreadingHTTPServer) -> None:
        self._server = server
        self.requests = 0

    def serve(self, path: str, body: bytes, *, status: int = 200, declared_length: int | None = None) -> str:
        """Serve ``body`` at ``path``; ``declared_length`` fakes a Content-Length (truncation); -1 sends none."""
        _Handler.routes[path] = (status, body, declared_length)
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    _Handler.routes = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalServer(server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def archive_bytes() -> bytes:
    from mnist_utils.data import SHIPPED_PATH

    return Path(SHIPPED_PATH).read_bytes()
