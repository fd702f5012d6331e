"""Run the experiments whose inputs changed and store their metrics and figures.

An experiment is skipped, with a one-line reason, when its assets do not resolve, when the
stored entry for the same assets has the same input hash and all its figures exist, or when only
a stand-in resolves here and the store already holds a result of the same code on a preferred
asset (the one the pages show; ``all_assets`` runs the stand-in anyway). Producers run before
their consumers, and a consumer runs again whenever its producer ran. Each experiment's figures
and metrics are written atomically as soon as it finishes, so an interrupted run keeps
everything written before it.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmnotes.pipeline.assets import AssetUnavailable, resolve
from llmnotes.pipeline.charts import chart_path, chart_spec, chart_svg, spec_bytes
from llmnotes.pipeline.experiment import Choice, Experiment, producers_first
from llmnotes.pipeline.files import FileProblem, write_atomic
from llmnotes.pipeline.metrics import (
    Entry,
    MetricsStore,
    MetricsStoreError,
    edited_figures,
    file_hash,
    save_svg,
)
from llmnotes.pipeline.tables import format_table

#: Packages whose versions are recorded in every entry's provenance.
TRACKED_PACKAGES = ("torch", "transformers", "tokenizers", "gensim", "nltk", "numpy", "matplotlib")


@dataclass(frozen=True)
class Outcome:
    """What happened to one experiment in a regeneration run.

    Attributes:
        experiment: The experiment's name.
        status: ``ran``, ``unchanged``, ``skipped`` or ``failed``.
        asset_key: The assets it ran (or would have run) on, if known.
        reason: Why it was skipped or how it failed; empty when it ran.
        seconds: Wall time of the run itself.
    """

    experiment: str
    status: str
    asset_key: str = ""
    reason: str = ""
    seconds: float = 0.0


def package_versions() -> dict[str, str]:
    """Return the installed versions of the tracked packages (and Python's)."""
    versions = {"python": platform.python_version(), "llmnotes": installed_version("llmnotes")}
    versions.update({name: installed_version(name) for name in TRACKED_PACKAGES})
    return versions


def machine_description() -> str:
    """The machine an experiment ran on, for provenance (timings depend on it)."""
    cpu = platform.processor() or platform.machine()
    return f"{platform.system()} {cpu}, {os.cpu_count()} CPUs"


def installed_version(name: str) -> str:
    """The installed version of the distribution ``name``, or ``"not installed"``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def figure_path(docs: Path, experiment: str, figure: str, asset_key: str) -> Path:
    """Return a figure's path: ``generated/figures/<experiment>/<figure>.<assets>.svg``."""
    return docs / "generated" / "figures" / experiment / f"{figure}.{asset_key}.svg"


def run_provenance(
    *,
    assets: dict[str, Any],
    settings: dict[str, Any],
    seed: int,
    seconds: float,
    input_hash: str,
    command: str,
    code_hash: str | None = None,
) -> dict[str, Any]:
    """The provenance stored with a result: what it ran on, with what, where, when and how long."""
    extra = {} if code_hash is None else {"code_hash": code_hash}
    return extra | {
        "assets": assets,
        "settings": settings,
        "seed": seed,
        "versions": package_versions(),
        "machine": machine_description(),
        "duration_s": round(seconds, 3),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "input_hash": input_hash,
        "command": command,
    }


def is_fresh(entry: Entry | None, input_hash: str, docs: Path) -> bool:
    """Whether ``entry`` came from ``input_hash`` and its figure files are on disk as written."""
    if entry is None or entry.input_hash != input_hash:
        return False
    files = [fig.get(kind) for fig in entry.figures.values() for kind in ("path", "chart")]
    on_disk = all((docs / file).is_file() for file in files if file)
    return on_disk and not edited_figures(entry, docs)


def run_one(
    exp: Experiment,
    choice: Choice,
    store: MetricsStore,
    docs: Path,
    progress: Any = None,
) -> float:
    """Run ``exp`` on ``choice``, write its figures, then its metrics entry; return its seconds."""
    start = time.perf_counter()
    result = exp.run(choice, progress)
    seconds = time.perf_counter() - start
    figures = {}
    for name, output in result.figures.items():
        path = figure_path(docs, exp.name, name, choice.key)
        figures[name] = {"alt": output.alt}
        if output.chart is not None:
            spec = chart_spec(output.chart)
            spec_path = Path(chart_path(str(path)))
            write_atomic(spec_path, spec_bytes(spec), "the chart")
            figures[name] |= {
                "chart": spec_path.relative_to(docs).as_posix(),
                "chart_sha256": file_hash(spec_path),
            }
            write_atomic(path, chart_svg(spec), "the figure")
        else:
            save_svg(output.figure, path)
        figures[name] |= {"path": path.relative_to(docs).as_posix(), "path_sha256": file_hash(path)}
    provenance = run_provenance(
        assets={role: res.provenance() for role, res in sorted(choice.assets.items())},
        settings=dict(exp.settings),
        seed=exp.seed,
        seconds=seconds,
        input_hash=exp.input_hash(choice),
        command=f"llmnotes regenerate {exp.topic}",
        code_hash=exp.code_hash(),
    )
    store.put(exp.name, choice.key, Entry(result.values, provenance, figures, choice.preference))
    return seconds


def regenerate(
    experiments: Iterable[Experiment],
    store: MetricsStore,
    docs: Path,
    *,
    offline: bool | None = None,
    force: bool = False,
    overrides: Mapping[str, str] | None = None,
    show_progress: bool = True,
    all_assets: bool = False,
    produce_missing: bool = False,
) -> list[Outcome]:
    """Run every stale experiment and return what happened to each one.

    Args:
        experiments: The experiments to consider.
        store: The metrics store to read hashes from and write results to.
        docs: The ``docs/`` folder (figures go under ``generated/figures``).
        offline: Skip the network; ``None`` decides automatically.
        force: Run even when the stored entry is fresh.
        overrides: Explicit asset paths by asset name.
        show_progress: Draw progress bars on standard error.
        all_assets: Run on a stand-in even when a fresh result on a preferred asset is stored.
        produce_missing: Run a producer whose product (a trained model) is not on this machine,
            even where its stored result is fresh, so that the commands that use the product
            work here (``llmnotes regenerate TOPIC`` asks for this; a bare ``regenerate`` does
            not, so a fresh clone trains nothing).

    Returns:
        One outcome per experiment, in order. A failing experiment is reported, not raised, and
        leaves its previous entry and figures as they were.

    Raises:
        MetricsStoreError: A result cannot be written (a full disk, a read-only folder); the
            results written before it are kept.
    """
    from tqdm.auto import tqdm

    def progress(iterable: Iterable[Any], **kwargs: Any) -> Iterable[Any]:
        return tqdm(iterable, leave=False, disable=not show_progress, file=sys.stderr, **kwargs)

    exps = producers_first(experiments)
    outcomes = []
    produced: set[str] = set()  # assets whose producer ran in this run
    for exp in progress(exps, desc="experiments", unit="exp"):
        try:
            choice = exp.choose(offline=offline, overrides=overrides)
        except AssetUnavailable as error:
            outcomes.append(Outcome(exp.name, "skipped", reason=str(error)))
            continue
        rerun = sorted(produced & {res.asset for res in choice.assets.values()})
        missing = sorted(name for name in exp.produces if produce_missing and not resolves(name))
        fresh = is_fresh(store.get(exp.name, choice.key), exp.input_hash(choice), docs)
        if not force and not rerun and not missing and fresh:
            outcomes.append(Outcome(exp.name, "unchanged", choice.key, "inputs unchanged"))
            continue
        if not (all_assets or missing) and (better := preferred_result(exp, choice, store)):
            reason = f"only a stand-in here; the fresh result on {better} is kept (--all-assets)"
            outcomes.append(Outcome(exp.name, "skipped", choice.key, reason))
            continue
        try:
            seconds = run_one(exp, choice, store, docs, progress)
        except (MetricsStoreError, FileProblem):
            raise  # a full disk or read-only folder stops every later write too: stop here
        except Exception as error:
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            outcomes.append(Outcome(exp.name, "failed", choice.key, reason))
            continue
        produced.update(exp.produces)
        note = f"its input {', '.join(rerun)} was just produced" if rerun else ""
        note = note or (f"{', '.join(missing)} was not on this machine" if missing else "")
        outcomes.append(Outcome(exp.name, "ran", choice.key, note, seconds))
    return outcomes


def resolves(asset: str) -> bool:
    """Whether ``asset`` can be found on this machine without the network."""
    try:
        resolve(asset, offline=True)
    except AssetUnavailable:
        return False
    return True


def preferred_result(exp: Experiment, choice: Choice, store: MetricsStore) -> str | None:
    """The key of a stored result on more preferred assets than ``choice``, from the same code.

    Such a result is what the pages show; re-running on a stand-in would only add a result
    nobody reads. Returns ``None`` when ``choice`` is already the most preferred, or when no
    stored result of the current code (``code_hash``) is more preferred.
    """
    if choice.preference == 0:
        return None
    code = exp.code_hash()
    for key, entry in store.entries(exp.name).items():
        if entry.preference < choice.preference and entry.provenance.get("code_hash") == code:
            return key
    return None


def stale_entries(
    experiments: Iterable[Experiment],
    store: MetricsStore,
    docs: Path,
    offline: bool | None = None,
    overrides: Mapping[str, str] | None = None,
) -> list[str]:
    """List the stored entries whose inputs resolve here but no longer match their hash.

    An entry is checked only when each of its assets resolves here from the same kind of source
    it was produced from (a file from the shared data folder is not compared with a download);
    the others cannot be checked on this machine and are not listed. Entries edited by hand
    (:attr:`MetricsStore.forged`, on a store loaded with ``drop_forged``) and figure files
    that differ from what their entry recorded are always listed.
    """
    stale = [f"{name}: edited by hand (rerun it to replace it)" for name in store.forged]
    for exp in experiments:
        for key, entry in store.entries(exp.name).items():
            if edited := edited_figures(entry, docs):
                stale.append(f"{exp.name} [{key}]: figure edited by hand ({', '.join(edited)})")
            elif entry_fresh(exp, key, entry, docs, offline, overrides) is False:
                stale.append(f"{exp.name} [{key}]")
    return stale


def entry_fresh(
    exp: Experiment,
    key: str,
    entry: Entry,
    docs: Path,
    offline: bool | None = None,
    overrides: Mapping[str, str] | None = None,
) -> bool | None:
    """Whether the stored result ``key`` of ``exp`` is fresh here (``None``: not checkable here).

    It can be checked only when each of its assets resolves here from the same kind of source it
    was produced from (a file from the shared data folder is not compared with a download).
    """
    try:
        choice = exp.choice_for_key(key, offline=offline, overrides=overrides)
    except AssetUnavailable:
        return None
    stored = entry.provenance.get("assets", {})
    if any(stored.get(role, {}).get("kind") != res.kind for role, res in choice.assets.items()):
        return None
    return is_fresh(entry, exp.input_hash(choice), docs)


def summary_table(outcomes: Iterable[Outcome]) -> str:
    """Format outcomes as a plain-text table, one experiment a line."""
    rows = [("experiment", "assets", "status", "time", "reason")]
    for o in outcomes:
        time_cell = f"{o.seconds:.1f}s" if o.status == "ran" else "-"
        rows.append((o.experiment, o.asset_key or "-", o.status, time_cell, o.reason))
    return format_table(rows)
