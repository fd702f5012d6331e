"""The built site in a real browser: headless Chromium driven by Playwright.

Every page loads with no console errors and no failed or off-site requests, images load, math is
rendered as MathML, search answers, and the home page shows a value from the metrics store. A
screenshot of every page goes to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ARTIFACTS, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Chromium is not installed (apt-get install chromium); .ci/run installs it",
    ),
]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield instance
        instance.close()


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, as URL paths."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        relative = html.parent.relative_to(site).as_posix()
        pages.append("/" if relative == "." else f"/{relative}/")
    return pages


def open_page(browser, url: str, problems: list[str], scheme: str = "default"):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(
        f"localStorage.setItem('/.__palette', JSON.stringify({{index: {int(scheme == 'slate')}, "
        f"color: {{scheme: '{scheme}'}}}}))"
    )
    host = url.split("/")[2]

    def check_request(route):
        if route.request.url.split("/")[2] != host and not route.request.url.startswith("data:"):
            problems.append(f"off-site request: {route.request.url}")
            return route.abort()
        return route.continue_()

    page.route("**/*", check_request)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(url, wait_until="networkidle")
    return page


def test_every_page_loads_cleanly_with_images(browser, site_url, built_site):
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    pages = site_pages(built_site)
    assert len(pages) >= 10
    for path in pages:
        problems: list[str] = []
        page = open_page(browser, site_url + path, problems)
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.src)"
        )
        name = path.strip("/").replace("/", "_") or "home"
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        page.close()
        assert not problems, f"{path}: {problems}"
        assert not broken, f"{path}: images that did not load: {broken}"


def test_math_is_rendered_not_raw(browser, site_url):
    problems: list[str] = []
    page = open_page(browser, site_url + "/", problems)
    assert page.locator("math").count() >= 1
    box = page.locator("math[display=block]").first.bounding_box()
    assert box and box["height"] > 20, "display math has no rendered height"
    text = page.locator("article").inner_text()
    assert "\\(" not in text and "\\frac" not in text and "$$" not in text
    page.close()


def test_home_shows_week1_table_with_stored_value(browser, site_url):
    store = json.loads((ROOT / "docs" / "generated" / "metrics.json").read_text())
    entries = store["experiments"]["tokenization.week1_wordpiece"]
    best = min(entries.values(), key=lambda e: e["preference"])
    tokens = best["values"]["tokens"]
    problems: list[str] = []
    page = open_page(browser, site_url + "/", problems)
    table = page.locator("table").first.inner_text()
    assert "Original (week 1)" in table
    assert " ".join(tokens) in table.replace("\n", " ")
    assert page.locator("figure.llmnotes-figure img").count() >= 1
    metric = page.locator(".llmnotes-metric").first
    assert "input hash" in metric.get_attribute("title")
    page.close()


def test_search_returns_a_result(browser, site_url):
    problems: list[str] = []
    page = open_page(browser, site_url + "/", problems)
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.keyboard.type("WordPiece")
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    assert page.locator(".md-search-result__item").count() >= 1
    page.close()
    assert not problems, problems


def test_dark_palette_renders(browser, site_url):
    problems: list[str] = []
    page = open_page(browser, site_url + "/", problems, scheme="slate")
    scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "home-dark.png"), full_page=True)
    page.close()
    assert scheme == "slate"
    assert not problems, problems
