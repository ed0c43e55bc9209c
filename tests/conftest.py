"""Shared test configuration and fixtures."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

from browser import browser, site  # noqa: F401 (fixtures of the browser tests)
from bad_inputs import dense

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


@pytest.fixture(scope="session")
def tiny_mlp():
    """An untrained network of the MLP's input and output shapes: enough to test checks."""
    import keras

    return keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])


@pytest.fixture(scope="session")
def model_files(tmp_path_factory, tiny_mlp):
    """Model files of every kind the loader must refuse, and one it must accept."""
    import json
    import zipfile

    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name, model in {
        "good": tiny_mlp,
        "five_inputs": dense((5,), 10, "softmax"),
        "three_classes": dense((784,), 3, "softmax"),
        "logits": dense((784,), 10, None),
        "sigmoid": dense((28, 28, 1), 10, "sigmoid"),
        "colour_input": dense((28, 28, 3), 10, "softmax"),
    }.items():
        paths[name] = folder / f"{name}.keras"
        model.save(paths[name])
    whole = paths["good"].read_bytes()
    for name, content in {"truncated": whole[: len(whole) // 2], "text": b"not a model", "empty": b""}.items():
        paths[name] = folder / f"{name}.keras"
        paths[name].write_bytes(content)
    paths["no_config"] = folder / "no_config.keras"
    with zipfile.ZipFile(paths["no_config"], "w") as archive:
        archive.writestr("metadata.json", "{}")
    paths["bad_config"] = folder / "bad_config.keras"
    with zipfile.ZipFile(paths["bad_config"], "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Nonexistent", "config": {}}))
    paths["h5"] = folder / "model.h5"
    paths["h5"].write_bytes(b"\x89HDF\r\n\x1a\n")
    return paths


