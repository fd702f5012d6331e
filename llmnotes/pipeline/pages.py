r"""Page transforms applied at build time: stored numbers, figures and provenance.

Pages write ``{{ metric("experiment", "value") }}``, ``{{ figure("experiment", "name") }}`` and
``{{ provenance("experiment") }}``; :func:`fill_references` replaces them with what the metrics
store holds (outside fenced code blocks); ``{{ quiz("topic") }}`` and ``{{ course_path() }}``
draw a topic's self-check and the Start page's path (:mod:`llmnotes.pipeline.course`).
:func:`strip_test_settings` removes the fence settings only the tests read. Math is rendered
by :mod:`llmnotes.pipeline.formulas`.

Examples:
    >>> strip_test_settings('```python requires="minilm"\nprint(1)\n```')
    '```python\nprint(1)\n```'
    >>> print(strip_test_settings('```python test="skip"\nprint(1)\n```'))
    *Not run by this site's tests (it needs the network): its output lines are not checked.*
    <BLANKLINE>
    ```python
    print(1)
    ```
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmnotes.pipeline.course import load_quiz, path_table, quiz_html, quiz_path
from llmnotes.pipeline.experiment import NO_ASSETS
from llmnotes.pipeline.metrics import Entry, MetricsStore, MissingMetric, edited_figures
from llmnotes.pipeline.palettes import dark_path

#: The page macros, by name: the methods of :class:`ReferenceFiller` marked with :func:`macro`.
MACROS: dict[str, Callable[..., str]] = {}


def macro(method: Callable[..., str]) -> Callable[..., str]:
    """Make a :class:`ReferenceFiller` method a page macro, ``{{ name(...) }}``, by its name."""
    MACROS[method.__name__] = method
    return method


def reference_pattern() -> re.Pattern[str]:
    """The pattern of a macro call in a page, built from :data:`MACROS`."""
    names = "|".join(sorted(MACROS, key=len, reverse=True))
    return re.compile(r"\{\{\s*(" + names + r")\((.*?)\)\s*\}\}")


FENCE = re.compile(
    r"^(?P<indent> *)(?P<fence>`{3,}|~{3,}).*?^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S
)
#: The fence settings only the tests read: ``test="skip"`` (not run here) and
#: ``requires="ASSET"`` (run where the asset resolves); see :mod:`llmnotes.pipeline.notebooks`.
FENCE_KEYS = ("test", "requires")
FENCE_SETTINGS = re.compile(
    r"^( *(?:`{3,}|~{3,}) *[\w+-]+)((?: +(?:" + "|".join(FENCE_KEYS) + r')="[^"]*")+) *$', re.M
)


#: Shown above a code block that the tests skip, so that no reader takes its output as checked.
UNTESTED_NOTE = (
    "*Not run by this site's tests (it needs the network): its output lines are not checked.*"
)


def strip_test_settings(markdown: str) -> str:
    """Remove the test-only settings (:data:`FENCE_KEYS`) from code fences.

    A block marked ``test="skip"`` gets :data:`UNTESTED_NOTE` above it, at its indentation.
    """

    def replace(match: re.Match[str]) -> str:
        if 'test="skip"' not in match.group(2):
            return match.group(1)
        indent = match.group(1)[: len(match.group(1)) - len(match.group(1).lstrip())]
        return f"{indent}{UNTESTED_NOTE}\n\n{match.group(1)}"

    return FENCE_SETTINGS.sub(replace, markdown)


def format_value(value: Any, fmt: str | None = None) -> str:
    """Format a stored value for a page: floats with ``fmt``, tokens as code, booleans as marks."""
    if isinstance(value, bool):
        return "✓ yes" if value else "✗ no"
    if isinstance(value, (list, tuple)) and fmt is not None:
        return html.escape(", ".join(format(v, fmt) for v in value))
    if fmt is not None:
        return html.escape(format(value, fmt))
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return " ".join(f"<code>{html.escape(v)}</code>" for v in value)
    if isinstance(value, (list, tuple, dict)):
        return f"<code>{html.escape(repr(value))}</code>"
    return html.escape(str(value))


def code(text: Any) -> str:
    """``text`` as inline code, escaped: what the store holds never becomes markup.

    Examples:
        >>> code("a<b")
        '<code>a&lt;b</code>'
    """
    return f"<code>{html.escape(str(text))}</code>"


#: What a figure path in the store may look like; anything else is not written by regenerate.
FIGURE_PATH = re.compile(r"generated/figures/[\w-][\w.-]*/[\w-][\w.+-]*\.(svg|vl\.json)")


def figure_file(path: str, where: str) -> str:
    """``path`` if it is a figure file regenerate writes, else a refusal naming ``where``.

    Raises:
        MissingMetric: The path is not under ``generated/figures`` (a store edited by hand).
    """
    if not FIGURE_PATH.fullmatch(path):
        raise MissingMetric(f"{where}: {path!r} is not a figure file of generated/figures")
    return path


def describe(experiment: str, key: str, entry: Entry) -> str:
    """One line of provenance: assets and their sources, date, input hash and the command."""
    prov = entry.provenance
    sources = (
        "; ".join(f"{a['asset']} from {a['location']}" for a in prov.get("assets", {}).values())
        or "no assets"
    )
    stand_in = " (offline stand-in)" if entry.preference else ""
    return (
        f"{experiment} on {key}{stand_in}: {sources}; {prov.get('date', '?')}; "
        f"input hash {prov.get('input_hash', '?')}; `{prov.get('command', 'llmnotes regenerate')}`"
    )


def stored_span(experiment: str, key: str, entry: Entry, value: Any, fmt: str | None) -> str:
    """A stored value or setting, formatted, with its provenance as a tooltip."""
    title = html.escape(describe(experiment, key, entry).replace("`", ""), quote=True)
    css = "llmnotes-metric llmnotes-standin" if entry.preference else "llmnotes-metric"
    return f'<span class="{css}" title="{title}">{format_value(value, fmt)}</span>'


def _call_arguments(text: str) -> tuple[list[Any], dict[str, Any]]:
    call = ast.parse(f"f({text})", mode="eval").body
    assert isinstance(call, ast.Call)
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    return args, kwargs


class ReferenceFiller:
    """Render metric, figure and provenance references from a metrics store.

    Args:
        store: The metrics store.
        docs_prefix: The relative path from the page to ``docs/`` (``""`` or ``"../"``…).
        docs: The ``docs/`` folder; when given, a figure whose file differs from the bytes its
            entry recorded is refused.
    """

    def __init__(
        self, store: MetricsStore, docs_prefix: str = "", docs: Path | None = None
    ) -> None:
        self.store = store
        self.docs_prefix = docs_prefix
        self.docs = docs
        #: The stored results the filled text showed, as (experiment, asset key), in order.
        self.shown: dict[tuple[str, str], Entry] = {}

    def _best(self, experiment: str, asset: str | None = None) -> tuple[str, Entry]:
        key, entry = self.store.best(experiment, asset)
        self.shown[(experiment, key)] = entry
        return key, entry

    @macro
    def metric(
        self,
        experiment: str,
        name: str,
        fmt: str | None = None,
        asset: str | None = None,
        index: int | None = None,
    ) -> str:
        """Render a stored value (or one item of a stored list), its provenance as a tooltip."""
        key, entry = self._best(experiment, asset)
        value = self.store.value(experiment, name, key)
        if index is not None:
            value = value[index]
        return stored_span(experiment, key, entry, value, fmt)

    @macro
    def table(
        self,
        experiment: str,
        columns: list[str],
        headers: list[str],
        fmt: list[str | None] | None = None,
        asset: str | None = None,
    ) -> str:
        """Render stored lists of equal length as a Markdown table, one column per list."""
        key, _ = self._best(experiment, asset)
        lists = [self.store.value(experiment, name, key) for name in columns]
        formats = fmt or [None] * len(columns)
        lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
        for row in zip(*lists, strict=True):
            cells = [format_value(v, f) for v, f in zip(row, formats, strict=True)]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    @macro
    def figure(
        self, experiment: str, name: str, caption: str = "", asset: str | None = None
    ) -> str:
        """Render a stored figure with its alt text, caption and source."""
        key, entry = self._best(experiment, asset)
        if name not in entry.figures:
            raise MissingMetric(
                f"experiment {experiment!r} on {key!r} has no figure {name!r} "
                f"(it has: {', '.join(sorted(entry.figures)) or 'none'})"
            )
        fig = entry.figures[name]
        where = f"experiment {experiment!r} on {key!r}, figure {name!r}"
        path = figure_file(fig["path"], where)
        if self.docs is not None and (edited := edited_figures(entry, self.docs)):
            raise MissingMetric(
                f"{where}: {', '.join(edited)} differs from what regenerate wrote; rerun "
                f"`llmnotes regenerate --force {experiment}` or `git checkout` the file"
            )
        stand_in = ", an offline stand-in" if entry.preference else ""
        on = "" if key == NO_ASSETS else f" on {code(key)}"
        note = f"Produced by {code(experiment)}{on}{stand_in}."
        # A chart keeps its static SVG: charts.js draws the spec beside it and hides the image,
        # so without JavaScript (or if the spec fails to load) the SVG is what shows.
        data = ""
        if "chart" in fig:
            spec = Path(figure_file(fig["chart"], where)).name
            data = f' data-llmnotes-chart="{spec}" data-llmnotes-chart-dark="{dark_path(spec)}"'
        alt = re.sub(r"([\[\]\\])", r"\\\1", html.escape(fig["alt"], quote=True))
        # One image per palette (Material hides the other by its suffix), each a link to its
        # SVG at full size for a phone; the dark one is written by the build (hooks.on_files).
        images = "".join(
            f"[![{alt}]({self.docs_prefix}{svg}#only-{scheme})]"
            f"({self.docs_prefix}{svg}){{ .llmnotes-zoom .llmnotes-only-{scheme} "
            'title="Open the figure at full size" }'
            for scheme, svg in (("light", path), ("dark", dark_path(path)))
        )
        return (
            f'<figure class="llmnotes-figure"{data} markdown="span">\n{images}\n'
            f"<figcaption>{caption + ' ' if caption else ''}{note}</figcaption>\n</figure>"
        )

    @macro
    def source(self, experiment: str, asset: str | None = None) -> str:
        """Render the assets an entry was computed on, marking offline stand-ins."""
        from llmnotes.pipeline.assets import REGISTRY

        _, entry = self._best(experiment, asset)
        parts = []
        for a in entry.provenance.get("assets", {}).values():
            registered = REGISTRY.get(a["asset"])
            stand_in = registered.stand_in_for if registered and entry.preference else None
            note = f", offline stand-in for {code(stand_in)}" if stand_in else ""
            parts.append(f"{code(a['asset'])} ({html.escape(str(a['location']))}{note})")
        return "; ".join(parts)

    @macro
    def setting(
        self, experiment: str, name: str, fmt: str | None = None, asset: str | None = None
    ) -> str:
        """Render a setting the shown result was produced with (``epochs``, ``glove.window``)."""
        key, entry = self._best(experiment, asset)
        return stored_span(experiment, key, entry, self.store.setting(experiment, name, key), fmt)

    @macro
    def week1(self, name: str, fmt: str | None = None) -> str:
        """Render a value reported by the original week-1 notes (:mod:`llmnotes.week1`)."""
        from llmnotes import week1

        if not hasattr(week1, name):
            raise MissingMetric(f"llmnotes.week1 has no {name!r}")
        return format_value(getattr(week1, name), fmt)

    @macro
    def published(self, name: str, fmt: str | None = None) -> str:
        """Render a number published elsewhere (:mod:`llmnotes.published`), linked to its source."""
        from llmnotes.published import PUBLISHED

        if name not in PUBLISHED:
            raise MissingMetric(f"llmnotes.published has no {name!r}")
        entry = PUBLISHED[name]
        text, title = format_value(entry.value, fmt), html.escape(entry.source, quote=True)
        return f'<a class="llmnotes-published" href="{entry.url}" title="{title}">{text}</a>'

    @macro
    def claim(
        self,
        experiment: str,
        left: str,
        relation: str,
        right: str | float,
        other: str | None = None,
        factor: float = 1.0,
    ) -> str:
        """Check, at build time, a comparison that the sentence around it states.

        ``{{ claim("exp", "bits.rnn", "<", "bits.gpt") }}`` renders nothing while the stored
        values satisfy the relation, and fails the strict build when a regeneration makes the
        sentence false. ``right`` is a value path of the same experiment (or of ``other``), or
        a number, multiplied by ``factor`` ("about half": ``"<"`` with ``factor=0.55`` and
        ``">"`` with ``factor=0.45``).

        Raises:
            MissingMetric: The claim does not hold, or a value is not stored.
        """
        a, b, holds = self._compare(experiment, left, relation, right, other, factor)
        if not holds:
            raise MissingMetric(
                f"the page claims {experiment} {left} {relation} {factor:g} × {right}, but the "
                "store has "
                f"{a:.6g} and {b:.6g}: rewrite the sentence"
            )
        return ""

    @macro
    def verdict(
        self,
        experiment: str,
        left: str,
        relation: str,
        right: str | float,
        if_true: str,
        if_false: str,
        other: str | None = None,
        factor: float = 1.0,
    ) -> str:
        """Render the words that state a stored comparison truly, whichever way it comes out.

        For results that depend on the machine, where a :meth:`claim` would fail the build on
        another one: ``{{ verdict("exp", "speedup", ">", 1, "faster", "slower") }}`` renders
        ``faster`` while the stored speedup is above 1 and ``slower`` otherwise. The arguments
        are :meth:`claim`'s.
        """
        return (
            if_true
            if self._compare(experiment, left, relation, right, other, factor)[2]
            else if_false
        )

    def _compare(
        self,
        experiment: str,
        left: str,
        relation: str,
        right: str | float,
        other: str | None,
        factor: float,
    ) -> tuple[float, float, bool]:
        """The two stored sides of a comparison and whether ``relation`` holds between them."""
        checks = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
        if relation not in checks:
            raise MissingMetric(f"claim: unknown relation {relation!r}; use one of {list(checks)}")
        a = float(self.store.value(experiment, left))
        b = factor * float(
            right if not isinstance(right, str) else self.store.value(other or experiment, right)
        )
        return a, b, checks[relation](a, b)

    @macro
    def provenance(self, experiment: str, asset: str | None = None) -> str:
        """Render a collapsible note with the full provenance of an entry."""
        key, entry = self._best(experiment, asset)
        prov = entry.provenance
        text = html.escape  # every field comes from the store: never let it become markup
        # A title is inline Markdown inside quotes: keep its code spans free of ` and ".
        plain = {name: re.sub(r'[`"\\<>&]', "", name) for name in (experiment, key)}
        on = "" if key == NO_ASSETS else f" on `{plain[key]}`"
        lines = [f'??? info "How this was produced: `{plain[experiment]}`{on}"']
        if entry.preference:
            lines.append(
                "    This result was computed on an **offline stand-in**: the preferred asset "
                "was not available when it was regenerated.\n"
            )
        for role, a in prov.get("assets", {}).items():
            lines.append(
                f"    - **{text(str(role))}**: {code(a['asset'])} from {text(a['location'])}"
            )
        versions = ", ".join(f"{k} {v}" for k, v in sorted(prov.get("versions", {}).items()))
        settings = prov.get("settings") or {}
        seed = text(str(prov.get("seed")))
        lines += [
            f"    - **settings**: {code(settings)}, seed {seed}"
            if settings
            else f"    - **seed**: {seed}",
            f"    - **run**: {text(str(prov.get('date')))}, {text(str(prov.get('duration_s')))} s, "
            f"input hash {code(prov.get('input_hash'))}",
            f"    - **versions**: {text(versions)}",
            f"    - **reproduce**: {code(prov.get('command'))}",
        ]
        return "\n".join(lines)

    @macro
    def quiz(self, topic: str) -> str:
        """Render the self-check of ``topic`` from ``docs/quizzes/TOPIC.yml``."""
        assert self.docs is not None, "a self-check needs the docs folder"
        return quiz_html(load_quiz(quiz_path(self.docs, topic)))

    @macro
    def course_path(self) -> str:
        """Render the Start page's table of the topics, in nav order, with their times."""
        assert self.docs is not None, "the course path needs the docs folder"
        return path_table(self.docs.parent)

    def fill(self, markdown: str, on_missing: Callable[[str], None]) -> str:
        """Replace every reference outside fenced code; report missing ones to ``on_missing``."""

        def replace(match: re.Match[str]) -> str:
            kind, arguments = match.group(1), match.group(2)
            try:
                args, kwargs = _call_arguments(arguments)
                return getattr(self, kind)(*args, **kwargs)
            except MissingMetric as error:
                on_missing(str(error))
            except (SyntaxError, ValueError, TypeError, AssertionError) as error:
                on_missing(f"malformed reference {match.group(0)!r}: {error}")
            return f'<span class="llmnotes-missing">[missing: {html.escape(match.group(0))}]</span>'

        pattern = reference_pattern()
        pieces, last = [], 0
        for fence in FENCE.finditer(markdown):
            pieces.append(pattern.sub(replace, markdown[last : fence.start()]))
            pieces.append(fence.group(0))
            last = fence.end()
        pieces.append(pattern.sub(replace, markdown[last:]))
        return "".join(pieces)
