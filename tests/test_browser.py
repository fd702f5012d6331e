"""The built site in a real browser: headless Chromium driven by Playwright.

The site is served under ``/llmnotes/`` with GitHub Pages' 404 behaviour. Every page loads in
both palettes with no console errors and no failed or off-site requests, images load, axe-core
finds no serious or critical accessibility violation, math is rendered by KaTeX (wide formulas
scroll with a cue), at 390 px nothing sticks out and whatever scrolls sideways shows a cue, each
palette shows its own figures, search answers, and the charts respond to pointer and keyboard (and
fall back to their static SVG). Screenshots of every page at 1,280 and 390 px go to
``test-artifacts/screenshots/`` and the axe results to ``test-artifacts/axe.json``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmnotes.charts import VISIBLE
from llmnotes.pipeline.course import topics

from conftest import ARTIFACTS, ROOT, build_site

#: Where the site lives on GitHub Pages (the path of ``site_url``), mirrored by the test server.
BASE = "/llmnotes"


def find_chromium() -> str | None:
    """Debian's Chromium (what .ci/run installs), or one named by ``LLMNOTES_CHROMIUM``."""
    for candidate in (os.environ.get("LLMNOTES_CHROMIUM"), shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (apt-get install chromium, or set LLMNOTES_CHROMIUM); "
        ".ci/run installs it",
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
AXE_SCRIPT = None  # found lazily: the axe-core build that axe-playwright-python ships
SERIOUS = ("serious", "critical")


class PagesHandler(http.server.SimpleHTTPRequestHandler):
    """Serve the site under :data:`BASE` and answer unknown paths with ``404.html``."""

    def log_message(self, *args: object) -> None:
        pass

    def translate_path(self, path: str) -> str:
        if path.startswith(BASE + "/") or path == BASE:
            path = path[len(BASE) :] or "/"
        else:
            path = "/__outside_the_site__"
        return super().translate_path(path)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """Serve ``folder`` as the site's root on GitHub Pages (under :data:`BASE`); yield its URL."""
    handler = functools.partial(PagesHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{BASE}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    with serving(built_site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield instance
        instance.close()


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, as URL paths below the site's root."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        relative = html.parent.relative_to(site).as_posix()
        pages.append("/" if relative == "." else f"/{relative}/")
    return pages


def open_page(browser, url: str, problems: list[str], scheme: str = "default"):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(
        f"localStorage.setItem('{BASE}/.__palette', JSON.stringify({{index: "
        f"{int(scheme == 'slate')}, color: {{scheme: '{scheme}'}}}}))"
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


def axe_violations(page) -> list[dict]:
    """Run axe-core in the page; return its violations as ``{id, impact, nodes, help}``."""
    import axe_playwright_python

    script = Path(axe_playwright_python.__file__).with_name("axe.min.js")
    page.add_script_tag(path=str(script))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return result


#: What sticks out of a 390 px page: an element past the right edge that no ancestor clips or
#: scrolls, and a box that scrolls sideways without the shadow cue (llmnotes.css). Material's
#: header, drawer and search are its own; the check covers the content.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const style = (el) => getComputedStyle(el);
  const name = (el) => el.tagName.toLowerCase() + ' "' + el.textContent.trim().slice(0, 40) + '"';
  const found = [];
  if (document.documentElement.scrollWidth > width + 1) found.push('the page scrolls sideways');
  for (const el of document.querySelectorAll('.md-content *')) {
    if (!el.checkVisibility()) continue;
    if (['auto', 'scroll'].includes(style(el).overflowX) && el.scrollWidth > el.clientWidth + 1) {
      const control = el.parentElement.querySelector(':scope > .tabbed-control');
      const cue = style(el).backgroundImage.includes('radial-gradient') ||
        (control && control.checkVisibility());  // Material's own arrows for tab labels
      if (!cue) found.push('scrolls with no cue: ' + name(el));
      continue;
    }
    if (el.getBoundingClientRect().right <= width + 1) continue;
    let up = el.parentElement;
    while (up && style(up).overflowX === 'visible') up = up.parentElement;
    if (!up || up === document.body || up === document.documentElement)
      found.push(`sticks out to ${Math.round(el.getBoundingClientRect().right)} px: ` + name(el));
  }
  return found;
}"""

#: The figures showing: their image files and any CSS filter on them.
FIGURES = """() => Array.from(document.querySelectorAll('.llmnotes-figure img'))
  .filter(i => i.checkVisibility())
  .map(i => ({src: i.getAttribute('src'), filter: getComputedStyle(i).filter}))"""


def page_failures(page, path: str, scheme: str, width: int) -> tuple[list[str], int]:
    """What is wrong with ``page`` as shown now, and how many formulas are wider than their box.

    Math: no raw LaTeX (API pages show docstrings as written, and the math module's describes
    the delimiters) and no KaTeX error; each display formula in a scrolling box that shows a cue
    when the formula is wider. At 390 px nothing sticks out (``OVERFLOW``). Figures: the
    palette's own image, never a CSS filter.
    """
    where = f"{path} ({scheme}, {width} px)"
    failures: list[str] = []
    text = page.locator("article").inner_text() if page.locator("article").count() else ""
    raw = ("\\(", "\\[", "$$", "\\frac") if not path.startswith("/reference/") else ()
    failures += [f"{where}: raw LaTeX shows"] if any(m in text for m in raw) else []
    failures += [f"{where}: a KaTeX error node"] if page.locator(".katex-error").count() else []
    wide = 0
    for formula in page.evaluate(MATH_BOXES):
        shown = f"{where}: {formula['text']!r}"
        if not formula["boxed"]:
            failures.append(f"{shown} is not in a scrolling box")
        elif formula["wide"]:
            wide += 1
            if not (formula["scrolls"] and formula["cue"]):
                failures.append(f"{shown} is wider than its column with no scroll cue")
    if width < 600:
        failures += [f"{where}: {found}" for found in page.evaluate(OVERFLOW)]
    suffix = "#only-dark" if scheme == "slate" else "#only-light"
    for figure in page.evaluate(FIGURES):
        if not figure["src"].endswith(suffix):
            failures.append(f"{where}: the other palette's figure shows: {figure['src']}")
        if figure["filter"] != "none":
            failures.append(f"{where}: a figure is filtered ({figure['filter']})")
    return failures, wide


def test_every_page_in_both_palettes_and_both_widths_loads_cleanly_and_passes_axe(
    browser, site_url, built_site
):
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    pages = site_pages(built_site)
    assert len(pages) >= 15
    report: dict[str, dict[str, object]] = {}
    failures: list[str] = []
    wide = 0
    for path in pages:
        for scheme in ("default", "slate"):
            problems: list[str] = []
            page = open_page(browser, site_url + path, problems, scheme)
            shown = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
            broken = page.evaluate(
                "Array.from(document.images).filter(i => i.checkVisibility() &&"
                " (!i.complete || i.naturalWidth === 0)).map(i => i.src)"
            )
            missing_alt = page.evaluate(
                "Array.from(document.images).filter(i => !i.hasAttribute('alt')).map(i => i.src)"
            )
            name = (path.strip("/").replace("/", "_") or "home") + (
                "-dark" if scheme == "slate" else ""
            )
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            violations = axe_violations(page)
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                found, wider = page_failures(page, path, scheme, width)
                failures += found
                wide += wider
            page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
            page.close()
            report.setdefault(path, {})[scheme] = {
                impact: sum(v["impact"] == impact for v in violations)
                for impact in ("minor", "moderate", "serious", "critical")
            } | {"rules": sorted({v["id"] for v in violations})}
            serious = [v for v in violations if v["impact"] in SERIOUS]
            where = f"{path} ({scheme})"
            failures += [f"{where}: {p}" for p in problems]
            failures += [f"{where}: palette is {shown}"] if shown != scheme else []
            failures += [f"{where}: image did not load: {src}" for src in broken]
            failures += [f"{where}: image without alt text: {src}" for src in missing_alt]
            failures += [
                f"{where}: axe {v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in serious
            ]
    (ARTIFACTS / "axe.json").write_text(json.dumps(report, indent=1, sort_keys=True))
    assert not failures, "\n".join(failures)
    assert wide, "no formula was wider than its column at 390 px: the cue went untested"


def test_unknown_address_gets_the_404_page_with_working_links(browser, site_url):
    problems: list[str] = []
    page = open_page(browser, site_url + "/no-such-page/", problems)
    assert "Page not found" in page.locator("article").inner_text()
    href = page.locator("article a", has_text="Tokenization").get_attribute("href")
    page.close()
    expected = [  # the page's own status, which the browser reports as a failed resource
        f"HTTP 404: {site_url}/no-such-page/",
        "console: Failed to load resource: the server responded with a status of 404 (Not Found)",
    ]
    assert problems == expected
    problems.clear()
    target = open_page(browser, urllib.parse.urljoin(site_url + "/no-such-page/", href), problems)
    assert target.title().startswith("Tokenization")
    target.close()
    assert not problems, problems


#: For each display formula: whether KaTeX rendered it in the scrolling box, whether it is wider
#: than the box, and whether the box then scrolls and shows its shadow cue.
MATH_BOXES = """() => Array.from(document.querySelectorAll('.katex-display')).map(d => {
  const box = d.closest('.llmnotes-math');
  const style = box && getComputedStyle(box);
  return {boxed: !!box, wide: !!box && box.scrollWidth > box.clientWidth + 1,
          scrolls: !!box && ['auto', 'scroll'].includes(style.overflowX),
          cue: !!box && style.backgroundImage.includes('radial-gradient'),
          text: d.textContent.slice(0, 40)};
})"""


def test_the_lstm_equations_render_as_aligned_rows(browser, site_url):
    page = open_page(browser, site_url + "/rnns/", [])
    lstm = page.locator(".llmnotes-math", has_text="tanh").filter(has_text="odot").first
    rows = lstm.locator("math mtr").count()
    # The visible rendering: every "=" of the six rows at one horizontal position.
    equals = lstm.evaluate(
        "box => Array.from(box.querySelectorAll('.katex-html .mrel')).filter(r =>"
        " r.textContent === '=').map(r => Math.round(r.getBoundingClientRect().left))"
    )
    page.close()
    assert rows == 6
    assert len(equals) == 6 and len(set(equals)) == 1, equals


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


def test_abbreviations_show_their_definition(browser, site_url):
    problems: list[str] = []
    page = open_page(browser, site_url + "/tokenization/", problems)
    abbr = page.locator("article abbr", has_text="BPE").first
    assert abbr.get_attribute("title").startswith("Byte-pair encoding")
    page.close()
    assert not problems, problems


#: Waits until every chart on the page has been drawn (or has given up, keeping its SVG).
CHARTS_SETTLED = """() => Array.from(document.querySelectorAll('figure[data-llmnotes-chart]'))
  .every(f => ['yes', 'failed'].includes(f.dataset.llmnotesReady))"""


def open_chart(browser, url: str, problems: list[str], scheme: str = "default"):
    """Open ``url``, wait for its first chart to be drawn; return the page and that figure."""
    page = open_page(browser, url, problems, scheme)
    page.wait_for_function(CHARTS_SETTLED)
    figure = page.locator("figure[data-llmnotes-chart]").first
    assert figure.get_attribute("data-llmnotes-ready") == "yes"
    assert not figure.locator("img:visible").count(), "the static SVG should give way"
    return page, figure


def marks(figure, contains: str):
    """The chart's marks (points, bars, cells) whose accessible label contains ``contains``."""
    return figure.locator(f'.llmnotes-chart [role="graphics-symbol"][aria-label*="{contains}"]')


def test_embedding_projection_shows_neighbours_on_hover_and_zooms_to_a_group(browser, site_url):
    problems: list[str] = []
    page, figure = open_chart(browser, site_url + "/embeddings/", problems)
    points = marks(figure, "group: ")
    everything = points.count()
    marks(figure, "word: queen").first.hover()
    tip = page.locator("#vg-tooltip-element")
    tip.wait_for(state="visible")
    assert "queen" in tip.inner_text() and "nearest" in tip.inner_text()
    figure.get_by_label("numbers", exact=True).check()  # a radio button: keyboard reachable
    page.wait_for_function(
        "([f, n]) => f.querySelectorAll('.llmnotes-chart [aria-label*=\"group: \"]').length < n",
        arg=[figure.element_handle(), everything],
    )
    assert marks(figure, "group: royalty").count() == 0
    assert marks(figure, "group: numbers").count() > 0
    page.close()
    assert not problems, problems


#: The text of a chart's title as drawn now (its aria-label keeps the first one).
TITLE = ".llmnotes-chart .role-title-text text"


def chart_title(figure) -> str:
    return figure.locator(TITLE).text_content()


def wait_for_title(page, figure, part: str) -> None:
    """Wait until the chart in ``figure`` is drawn with ``part`` in its title."""
    page.wait_for_function(
        "([f, selector, part]) => { const t = f.querySelector(selector);"
        " return t !== null && t.textContent.includes(part); }",
        arg=[figure.element_handle(), TITLE, part],
    )


def test_attention_chart_switches_layer_and_head_by_keyboard_and_keeps_them_in_dark(
    browser, site_url
):
    store = json.loads((ROOT / "docs" / "generated" / "metrics.json").read_text())
    chosen = store["experiments"]["transformers.attention_maps"]["minilm"]["values"]
    problems: list[str] = []
    page, figure = open_chart(browser, site_url + "/transformers/", problems)
    assert chart_title(figure).endswith(f"layer {chosen['layer']}, head {chosen['head']}")
    cells = marks(figure, "; weight: ")
    before = cells.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    slider = figure.get_by_role("slider", name="layer")
    step = "ArrowLeft" if chosen["layer"] else "ArrowRight"
    slider.focus()
    page.keyboard.press(step)
    layer = chosen["layer"] + (-1 if chosen["layer"] else 1)
    wait_for_title(page, figure, f"layer {layer}, head {chosen['head']}")
    assert cells.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))") != before
    cells.first.hover()
    assert "[CLS]" in page.locator("#vg-tooltip-element").inner_text()
    # The dark palette redraws from the dark spec and keeps the layer the reader picked.
    page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    page.wait_for_function(
        "([f, selector]) => { const t = f.querySelector(selector);"
        " return t !== null && getComputedStyle(t).fill !== 'rgb(34, 34, 34)'; }",
        arg=[figure.element_handle(), TITLE],
    )
    assert chart_title(figure).endswith(f"layer {layer}, head {chosen['head']}")
    assert figure.locator(".llmnotes-chart").count() == 1
    page.close()
    assert not problems, problems


def test_temperature_slider_draws_what_sampling_at_that_temperature_draws_from(browser, site_url):
    store = json.loads((ROOT / "docs" / "generated" / "metrics.json").read_text())
    stored = store["experiments"]["language-models.decoding"]["char-gpt"]
    first = stored["provenance"]["settings"]["temperatures"][0]
    problems: list[str] = []
    page, figure = open_chart(browser, site_url + "/language-models/", problems)

    def bars() -> dict[str, float]:
        labels = marks(figure, "; probability: ").evaluate_all(
            "els => els.map(e => e.getAttribute('aria-label'))"
        )
        # "<x axis title>: <token>; probability: <p>; …"
        found = (re.match(r"[^:]*: (.*?); probability: ([^;]+)", label) for label in labels)
        return {m.group(1): float(m.group(2)) for m in found}

    def expected(temperature: str) -> dict[str, float]:
        # torch's softmax(logits / T) for the most likely characters, from the experiment
        shown = [VISIBLE.get(c, c) for c in stored["values"]["top_chars"]]
        return dict(zip(shown, stored["values"]["probabilities"][temperature], strict=True))

    assert bars() == pytest.approx(expected(str(first)), abs=1e-5)
    slider = figure.get_by_role("slider", name="temperature T")
    slider.focus()
    for _ in range(round((1.0 - first) / 0.05)):
        page.keyboard.press("ArrowRight")
    wait_for_title(page, figure, "T = 1.00")
    assert bars() == pytest.approx(expected("1.0"), abs=1e-5)
    page.close()
    assert not problems, problems


@pytest.mark.parametrize("blocked", ["**/*.vl.json", "**/assets/vega/*.js"])
def test_a_chart_falls_back_to_its_static_svg_when_its_spec_or_library_is_blocked(
    browser, site_url, blocked
):
    page = browser.new_page()
    page.route(blocked, lambda route: route.abort())
    page.goto(site_url + "/transformers/", wait_until="networkidle")
    page.wait_for_function(CHARTS_SETTLED)
    figure = page.locator("figure[data-llmnotes-chart]").first
    assert figure.get_attribute("data-llmnotes-ready") == "failed"
    assert not figure.locator(".llmnotes-chart").count()
    image = figure.locator("img:visible")
    assert image.count() == 1
    assert image.evaluate("i => i.complete && i.naturalWidth > 0")
    page.close()


@pytest.mark.slow
def test_the_version_selector_lists_the_published_versions_and_switches_between_them(
    browser, tmp_path
):
    """The gh-pages branch as mike lays it out: a built site per version, the alias ``latest``
    as a symlink, versions.json, and the root page redirecting to the default version."""
    from importlib import resources

    import jinja2
    from mike.versions import Versions

    branch = tmp_path / "gh-pages"
    build_site(branch / "0.2", LLMNOTES_VERSION_PROVIDER="mike")
    shutil.copytree(branch / "0.2", branch / "0.1")
    (branch / "latest").symlink_to("0.2")
    versions = Versions()
    versions.add("0.1")
    versions.add("0.2", aliases=["latest"])
    (branch / "versions.json").write_text(versions.dumps())
    redirect = resources.files("mike").joinpath("templates/redirect.html").read_text()
    (branch / "index.html").write_text(jinja2.Template(redirect).render(href="latest/"))
    problems: list[str] = []
    with serving(branch) as url:
        page = open_page(browser, url + "/0.2/tokenization/", problems)
        selector = page.locator(".md-version")
        selector.wait_for()
        assert selector.locator(".md-version__current").inner_text().startswith("0.2")
        links = selector.locator(".md-version__link")
        assert [t.split()[0] for t in links.all_inner_texts()] == ["0.2", "0.1"]
        selector.hover()  # the list opens on hover (or focus)
        selector.get_by_role("link", name="0.1").click()
        page.wait_for_url(f"{url}/0.1/tokenization/")
        assert page.locator(".md-version__current").inner_text().startswith("0.1")
        banner = page.locator('[data-md-component="outdated"]')
        banner.wait_for()  # an older version says so, and links to the latest
        assert "older version" in banner.inner_text()
        banner.get_by_role("link").click()
        page.wait_for_url(f"{url}/latest/")
        assert page.locator(".md-version__current").inner_text().startswith("0.2")
        page.close()
    assert not problems, problems


def quiz_feedback(question) -> str:
    feedback = question.locator(".llmnotes-feedback")
    feedback.wait_for()
    return feedback.inner_text()


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_a_self_check_answers_by_keyboard_explains_keeps_the_answers_and_shows_progress(
    browser, site_url, scheme
):
    """Right and wrong answers by keyboard alone, in each palette; axe after answering; the
    answers survive a reload, the Start page shows the progress, and "Clear" forgets them."""
    problems: list[str] = []
    page = open_page(browser, site_url + "/tokenization/", problems, scheme)
    question = page.locator(".llmnotes-question").first
    options = question.locator("input[type=radio]")
    explanations = {
        li.get_attribute("data-option"): li.locator(".llmnotes-why").inner_text()
        for li in question.locator(".llmnotes-answers li").all()
    }
    page.locator("#self-check .headerlink").focus()
    page.keyboard.press("Tab")  # into the first question's radio group
    assert page.evaluate("document.activeElement.name") == options.first.get_attribute("name")
    page.keyboard.press("Space")
    seen = {}
    for step in range(options.count()):
        if step:
            page.keyboard.press("ArrowDown")  # moves to the next option and picks it
        picked = question.locator("input:checked")
        value = picked.get_attribute("value")
        right = picked.get_attribute("data-right") is not None
        text = quiz_feedback(question)
        assert text.startswith("Right." if right else "Not quite."), text
        assert explanations[value] in text
        seen[right] = value
    assert set(seen) == {True, False}, "the walk met both a right and a wrong answer"
    violations = [v for v in axe_violations(page) if v["impact"] in SERIOUS]
    assert not violations, violations
    # Leave the right answer picked; it is remembered across a reload.
    question.locator(f'input[value="{seen[True]}"]').check()
    page.reload(wait_until="networkidle")
    question = page.locator(".llmnotes-question").first
    assert question.locator("input:checked").get_attribute("value") == seen[True]
    total = page.locator(".llmnotes-question").count()
    assert page.locator(".llmnotes-quiz-score").inner_text().startswith(f"1 of {total} right")
    page.goto(site_url + "/start/", wait_until="networkidle")
    progress = page.locator('.llmnotes-progress[data-quiz="tokenization"]')
    assert progress.inner_text() == f"1 of {total} right"
    others = page.locator('.llmnotes-progress:not([data-quiz="tokenization"])')
    assert others.all_inner_texts() == ["not started"] * (len(topics()) - 1)
    progress.get_by_role("link").click()  # back to the self-check it counts
    page.wait_for_url(site_url + "/tokenization/#self-check")
    page.get_by_role("button", name="Clear my answers").click()
    page.wait_for_function("!document.querySelector('.llmnotes-question input:checked')")
    assert page.evaluate("localStorage.getItem('llmnotes.quiz.tokenization')") is None
    page.close()
    assert not problems, problems
