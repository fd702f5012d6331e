"""The "verified" box at the foot of every page: what the build and the last test run checked.

It states, for the page a reader is looking at:

- when the site was built, from which commit, with which versions;
- for each experiment whose results the page shows: whether the stored result is fresh (the
  code, settings and, where they resolve here, the assets are those it was produced from), and
  whether it comes from an offline stand-in;
- whether its code ran: a topic page's code blocks (and a module's docstring examples) in the
  last test run, recorded by the test suite in :data:`RUNS_FILE` with the hash of the file they
  came from; a notebook's cells at build (mkdocs-jupyter reuses outputs only for the same
  notebook and code), where an error fails the build.

Nothing is claimed that was not checked: a page edited after the last test run says so, and a
checkout where the tests have not run says how to run them.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmnotes.pipeline.experiment import NO_ASSETS
from llmnotes.pipeline.files import write_atomic

#: Where the test suite records which files' code ran and how it went (relative to the
#: checkout; ignored by git, like the rest of ``test-artifacts``).
RUNS_FILE = Path("test-artifacts") / "code-runs.json"

#: The outcomes a run of a code block can have, as pytest reports them.
OUTCOMES = ("passed", "failed", "skipped")


def file_digest(path: Path) -> str:
    """A short hash of a file's bytes: which version of a page or module a run checked."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def record_runs(
    root: Path,
    outcomes: Mapping[str, Iterable[str]],
    when: str,
    seconds: Mapping[str, Mapping[int, float]] | None = None,
) -> Path:
    """Record the outcomes of this test run's code blocks, per source file, in :data:`RUNS_FILE`.

    Files this run did not touch keep their earlier record.

    Args:
        root: The checkout.
        outcomes: For each source file (relative to ``root``), the outcome of each of its
            blocks or examples: ``passed``, ``failed``, ``skipped`` or ``skipped: REASON``.
        when: When the run happened, as the box should show it.
        seconds: For a page, how long each block that ran took, by the line its fence opens
            on (the page shows the time of a long exercise solution).
    """
    path = root / RUNS_FILE
    runs = read_runs(root)
    for source, results in outcomes.items():
        kinds = [result.split(":", 1)[0] for result in results]
        reasons = [r.split(":", 1)[1].strip() for r in results if r.startswith("skipped:")]
        runs[source] = {
            "sha": file_digest(root / source),
            "date": when,
            **{outcome: kinds.count(outcome) for outcome in OUTCOMES},
            "skip_reasons": {reason: reasons.count(reason) for reason in sorted(set(reasons))},
        }
        if seconds and source in seconds:
            runs[source]["seconds"] = {
                str(n): round(t, 2) for n, t in sorted(seconds[source].items())
            }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(runs, indent=1, sort_keys=True).encode())
    return path


def read_runs(root: Path) -> dict[str, dict[str, Any]]:
    """The recorded runs (empty when the tests have not run here or the file is unreadable)."""
    try:
        runs = json.loads((root / RUNS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return runs if isinstance(runs, dict) else {}


def code_status(root: Path, source: str | None, runs: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether the code of ``source`` is known to run as shown, and the sentence that says so.

    >>> code_status(Path("."), None, {})
    (True, 'It has no code blocks.')
    """
    if source is None:
        return True, "It has no code blocks."
    if source.endswith(".ipynb"):
        return True, (
            "Its cells ran with this code at build (outputs are reused only for the same notebook "
            "and code; an error in any cell fails the build)."
        )
    what = "docstring examples" if source.endswith(".py") else "code blocks"
    run = runs.get(source)
    if not run:
        return False, (
            f"Its {what} have no test run recorded in this checkout; "
            "<code>bash scripts/test.sh</code> runs them."
        )
    if (root / source).is_file() and run.get("sha") != file_digest(root / source):
        return False, (
            f"It changed after its {what} last ran ({html.escape(str(run.get('date')))}); "
            "<code>bash scripts/test.sh</code> runs them again."
        )
    passed, failed, skipped = (int(run.get(outcome, 0)) for outcome in OUTCOMES)
    if failed:
        return False, f"{failed} of its {what} failed in the test run of {run.get('date')}."
    shows = "what they show" if what == "docstring examples" else "what the page shows"
    ran = f"Its {passed} {what} ran and printed {shows}" if passed else ""
    reasons = run.get("skip_reasons") or ({"no reason recorded": skipped} if skipped else {})
    skips = "; ".join(f"{n} not run: {html.escape(reason)}" for reason, n in reasons.items())
    ran = f"{ran}; {skips}" if ran and skips else ran or skips or f"None of its {what} ran"
    return True, f"{ran} (test run of {html.escape(str(run.get('date')))})."


@dataclass
class ResultStatus:
    """One experiment shown on a page: its stored result's freshness and source."""

    experiment: str
    key: str
    fresh: bool | None  # None: its assets do not resolve here, so only its code was compared
    stand_in: str | None = None  # the asset it stands in for, when the result is a stand-in's


@dataclass
class Verified:
    """What the box at the foot of one page says (see :func:`render`)."""

    built: str
    commit: str | None
    versions: Mapping[str, str]
    results: list[ResultStatus] = field(default_factory=list)
    code_ok: bool = True
    code: str = "It has no code blocks."
    dirty: bool = False  # the checkout had changes to tracked files that are not committed

    @property
    def ok(self) -> bool:
        """Whether every check passed: every result fresh and every code block run."""
        return self.code_ok and all(r.fresh is not False for r in self.results)


def now_utc() -> str:
    """Now, in UTC, to the minute: when a build or a test run happened."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def render(verified: Verified) -> str:
    """The box as HTML: a one-line summary a reader can open for the details.

    >>> box = render(Verified("2026-12-02 10:00 UTC", None, {"python": "3.11.7"}))
    >>> "Verified" in box and "3.11.7" in box
    True
    """
    stand_ins = [r for r in verified.results if r.stand_in]
    parts = []
    if verified.results:
        fresh = sum(r.fresh is True for r in verified.results)
        parts.append(f"{fresh} of {len(verified.results)} results fresh")
        if unchecked := sum(r.fresh is None for r in verified.results):
            parts.append(f"{unchecked} with unchanged code (assets not here)")
    if stand_ins:
        parts.append(f"{len(stand_ins)} on an offline stand-in")
    parts.append("code ran" if verified.code_ok else "code not verified")
    title = "Verified" if verified.ok else "Not fully verified"
    summary = f"{title} at build, {verified.built}: {', '.join(parts)}"
    commit = f" from commit <code>{verified.commit[:10]}</code>" if verified.commit else ""
    commit += " with uncommitted changes" if verified.commit and verified.dirty else ""
    versions = ", ".join(f"{name} {html.escape(v)}" for name, v in verified.versions.items())
    items = [f"Built {verified.built}{commit} with {versions}."]
    for result in verified.results:
        name = f"<code>{html.escape(result.experiment)}</code>"
        on = "" if result.key == NO_ASSETS else f" on <code>{html.escape(result.key)}</code>"
        if result.fresh is None:
            state = "its code is unchanged since the result (its assets are not on this machine)"
        elif result.fresh:
            state = "fresh: code, settings and assets are those it was produced from"
        else:
            state = (
                f"<strong>stale</strong>: rerun <code>llmnotes regenerate "
                f"{html.escape(result.experiment)}</code>"
            )
        if result.stand_in:
            state += f"; an offline stand-in for <code>{html.escape(result.stand_in)}</code>"
        items.append(f"{name}{on}: {state}.")
    items.append(verified.code)
    kind = "success" if verified.ok else "warning"
    body = "".join(f"<li>{item}</li>" for item in items)
    return (
        f'<details class="{kind} llmnotes-verified">'
        f"<summary>{summary}</summary><ul>{body}</ul></details>"
    )


def result_status(experiment: str, key: str, entry: Any, docs: Path) -> ResultStatus:
    """How the stored result ``key`` of ``experiment`` stands against the code here.

    Fresh as ``llmnotes regenerate --check`` sees it: the same code hash, figure files as
    written and, where the assets resolve here from the kind of source the result was produced
    from, the same input hash. Where they do not resolve, only the code is compared
    (``fresh`` is ``None`` when it matches).
    """
    from llmnotes.pipeline.assets import REGISTRY
    from llmnotes.pipeline.experiment import UnknownExperiment, load_topics
    from llmnotes.pipeline.metrics import edited_figures
    from llmnotes.pipeline.regenerate import entry_fresh

    stand_in = None
    if entry.preference:
        stand_in = next(
            (
                REGISTRY[a["asset"]].stand_in_for
                for a in entry.provenance.get("assets", {}).values()
                if a.get("asset") in REGISTRY and REGISTRY[a["asset"]].stand_in_for
            ),
            None,
        )
    status = ResultStatus(experiment, key, False, stand_in)
    try:
        found = load_topics([experiment.split(".")[0]])
    except UnknownExperiment:  # a result of an experiment that no longer exists
        found = []
    exp = next((e for e in found if e.name == experiment), None)
    if exp is None or entry.provenance.get("code_hash") != exp.code_hash():
        return status
    # Figures are checked even where the assets are not here: their files are.
    if not edited_figures(entry, docs):
        status.fresh = entry_fresh(exp, key, entry, docs, offline=True)
    return status


def page_source(src_uri: str, markdown: str, docs: Path) -> str | None:
    """The file (relative to the checkout) whose code a page shows, if it shows any.

    A topic page's own Markdown (when it has Python blocks), a notebook, or the module an API
    page documents (``::: llmnotes.bpe``, when its docstrings have examples).

    >>> page_source("notebooks/rnns.ipynb", "", Path("docs"))
    'docs/notebooks/rnns.ipynb'
    >>> page_source("glossary.md", "# Glossary", Path("docs")) is None
    True
    """
    import re

    from llmnotes.pipeline.experiment import module_file

    if src_uri.endswith(".ipynb"):
        return f"{docs.name}/{src_uri}"
    if documented := re.search(r"^::: (llmnotes[\w.]*)", markdown, re.M):
        module = module_file(documented.group(1))
        if module is None or ">>>" not in module.read_text(encoding="utf-8"):
            return None
        return module.resolve().relative_to(docs.parent.resolve()).as_posix()
    return f"{docs.name}/{src_uri}" if "```python" in markdown else None
