"""Helpers for the browser tests: serve the built book on 127.0.0.1 and drive Chromium.

The tests use the system's Chromium (Debian packages ``chromium`` and ``chromium-driver``)
through Playwright; Playwright never downloads a browser of its own here. Every request
to a host other than the local server is blocked and recorded, so a page that would need
the network fails its test: the built site must work offline.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
from tools.chromium import CHROMIUM_ARGS, MISSING, find_chromium, serve

SITE = ROOT / "_build" / "html"
#: Screenshots and measurements of the browser tests, kept for people to look at.
ARTIFACTS = ROOT / "artifacts"


def chromium_path() -> str:
    """The Chromium executable (:func:`chromium.find_chromium`); the test fails without one."""
    path = find_chromium()
    if not path:
        pytest.fail(MISSING)
    return path


@dataclasses.dataclass
class Site:
    """The built book, served over HTTP on 127.0.0.1."""

    root: Path
    url: str

    def page_url(self, page: str) -> str:
        return f"{self.url}/{page}.html"

    def local_path(self, url: str) -> Path | None:
        """The file behind a URL of this site, or ``None`` for another host."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.url:
            return None
        path = parts.path.lstrip("/") or "index.html"
        if path.endswith("/"):
            path += "index.html"
        return self.root / path


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"No built book in {SITE}: run `make book` first (`make test` does).")
    with serve(SITE) as url:
        yield Site(SITE, url)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclasses.dataclass
class Visit:
    """What went wrong while a page was open."""

    errors: list[str] = dataclasses.field(default_factory=list)
    failed_requests: list[str] = dataclasses.field(default_factory=list)
    external_requests: list[str] = dataclasses.field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"console error: {error}" for error in self.errors]
            + [f"failed request: {url}" for url in self.failed_requests]
            + [f"request outside the site: {url}" for url in self.external_requests]
        )


def open_context(browser, site: Site, **options):
    """A fresh browser context that blocks other hosts, and the :class:`Visit` it records into."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
    visit = Visit()

    def route(route) -> None:
        if site.local_path(route.request.url) is None and not route.request.url.startswith("data:"):
            visit.external_requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", route)

    def watch(page) -> None:
        page.on("console", lambda message: message.type == "error" and visit.errors.append(
            f"{message.text} ({message.location.get('url', '')})"))
        page.on("pageerror", lambda error: visit.errors.append(str(error)))
        page.on("requestfailed", lambda request: site.local_path(request.url) is not None
                and visit.failed_requests.append(request.url))
        page.on("response", lambda response: response.status >= 400 and visit.failed_requests.append(
            f"{response.url} ({response.status})"))

    context.on("page", watch)
    return context, visit
