"""Experiments: the functions that produce every number and figure on the site.

A topic module registers its experiments with :func:`experiment`. Each one names the assets it
needs (per role, alternatives in order of preference), its settings and its seed; it receives an
:class:`Context` and returns a :class:`Result` of plain values and figures. It never prints, and
it never writes files: :mod:`llmnotes.regenerate` does that.

Examples:
    >>> @experiment("demo", settings={"n": 3}, register=False)
    ... def squares(ctx):
    ...     return Result(values={"squares": [i * i for i in range(ctx.settings["n"])]})
    >>> squares.name
    'demo.squares'
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import json
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmnotes.assets import AssetUnavailable, Resolved, resolve, resolve_first

#: The store key of an experiment that needs no asset.
NO_ASSETS = "none"

#: Topic name to the module that registers its experiments.
TOPIC_MODULES: dict[str, str] = {
    "tokenization": "llmnotes.tokenization",
    "embeddings": "llmnotes.embeddings_experiments",
    "rnns": "llmnotes.rnn_experiments",
    "finetuning": "llmnotes.finetune_experiments",
    "transformers": "llmnotes.transformers_experiments",
    "performance": "llmnotes.performance_experiments",
}


@dataclass
class FigureOutput:
    """A figure an experiment made, with the alt text the page shows for it.

    Attributes:
        figure: The Matplotlib figure, saved as SVG.
        alt: The alt text.
        data: JSON-ready data for an interactive version, drawn in the browser by
            ``docs/assets/interactive.js`` with the SVG as the fallback. Its ``kind`` says how:
            ``"scatter"`` (labelled points, hover for details) or ``"heatmaps"`` (a stack of
            matrices, pick one with the controls).
    """

    figure: Any
    alt: str
    data: dict[str, Any] | None = None


@dataclass
class Result:
    """What an experiment returns: JSON-ready values and named figures."""

    values: dict[str, Any]
    figures: dict[str, FigureOutput] = field(default_factory=dict)


@dataclass
class Context:
    """What an experiment receives.

    Attributes:
        assets: The resolved asset for each role the experiment declared.
        settings: The experiment's settings.
        seed: The seed, already applied to ``random``, NumPy and torch when they are loaded.
        progress: Wraps an iterable in a progress bar (a no-op when bars are off).
    """

    assets: dict[str, Resolved]
    settings: dict[str, Any]
    seed: int
    progress: Callable[..., Iterable[Any]] = field(default=lambda iterable, **_: iterable)


@dataclass(frozen=True)
class Choice:
    """The assets chosen for one run: the resolved asset per role and how preferred they are."""

    assets: dict[str, Resolved]
    preference: int

    @property
    def key(self) -> str:
        """The metrics-store key: the chosen asset names joined by ``+``, or ``none``."""
        return "+".join(self.assets[role].asset for role in sorted(self.assets)) or NO_ASSETS


@dataclass(frozen=True)
class Experiment:
    """A registered experiment.

    Attributes:
        topic: The topic it belongs to (``llmnotes regenerate TOPIC``).
        func: The function that runs it.
        assets: Role to the asset names that can fill it, most preferred first.
        settings: JSON-ready settings passed to the function and hashed.
        seed: The seed set before it runs.
    """

    topic: str
    func: Callable[[Context], Result]
    assets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def name(self) -> str:
        """``topic.function_name``, the experiment's key in the metrics store."""
        return f"{self.topic}.{self.func.__name__}"

    def choose(
        self, offline: bool | None = None, overrides: Mapping[str, str] | None = None
    ) -> Choice:
        """Resolve one asset per role, taking the first alternative that resolves.

        Raises:
            AssetUnavailable: A role has no alternative that resolves; the message says why.
        """
        chosen: dict[str, Resolved] = {}
        preference = 0
        for role, names in sorted(self.assets.items()):
            chosen[role], rank = resolve_first(names, offline=offline, overrides=overrides)
            preference += rank
        return Choice(chosen, preference)

    def choice_for_key(
        self, key: str, offline: bool | None = None, overrides: Mapping[str, str] | None = None
    ) -> Choice:
        """Resolve exactly the assets named by a stored ``key`` (for freshness checks).

        Raises:
            AssetUnavailable: One of them does not resolve here.
        """
        names = [] if key == NO_ASSETS else key.split("+")
        roles = sorted(self.assets)
        if len(names) != len(roles):
            raise AssetUnavailable(f"key {key!r} does not match roles {roles}")
        chosen = {
            role: resolve(name, offline=offline, overrides=overrides)
            for role, name in zip(roles, names, strict=True)
        }
        preference = sum(
            self.assets[role].index(name) for role, name in zip(roles, names, strict=True)
        )
        return Choice(chosen, preference)

    def input_hash(self, choice: Choice) -> str:
        """Hash everything that determines the result: code, settings, seed and asset contents."""
        payload = {
            "experiment": self.name,
            "code": code_fingerprint(self.func),
            "settings": self.settings,
            "seed": self.seed,
            "assets": {role: res.fingerprint for role, res in sorted(choice.assets.items())},
        }
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_settings(self, **overrides: Any) -> Experiment:
        """The same experiment with some settings replaced, not registered.

        Tests use it for smaller runs, benchmarks for larger ones.
        """
        return Experiment(
            self.topic, self.func, self.assets, {**self.settings, **overrides}, self.seed
        )

    def run(self, choice: Choice, progress: Callable[..., Iterable[Any]] | None = None) -> Result:
        """Seed the random generators and run the experiment on ``choice``."""
        seed_everything(self.seed)
        context = Context(dict(choice.assets), dict(self.settings), self.seed)
        if progress is not None:
            context.progress = progress
        return self.func(context)


_REGISTRY: dict[str, Experiment] = {}


def experiment(
    topic: str,
    *,
    assets: Mapping[str, tuple[str, ...]] | None = None,
    settings: Mapping[str, Any] | None = None,
    seed: int = 0,
    register: bool = True,
) -> Callable[[Callable[[Context], Result]], Experiment]:
    """Register the decorated function as an experiment of ``topic``.

    Args:
        topic: The topic it belongs to.
        assets: Role to alternative asset names, most preferred first.
        settings: JSON-ready settings (hashed: changing one re-runs the experiment).
        seed: The seed applied before each run.
        register: Add it to the registry (tests pass ``False``).
    """

    def decorate(func: Callable[[Context], Result]) -> Experiment:
        exp = Experiment(topic, func, dict(assets or {}), dict(settings or {}), seed)
        if register:
            _REGISTRY[exp.name] = exp
        return exp

    return decorate


def load_topics(topics: Iterable[str] | None = None) -> list[Experiment]:
    """Import the topic modules and return their experiments, in registration order.

    Args:
        topics: Topic names (``embeddings``) or single experiments
            (``embeddings.week1_similarity``); all topics when empty.

    Raises:
        KeyError: A topic or experiment is unknown; the message lists the known ones.
    """
    wanted = list(topics) if topics else list(TOPIC_MODULES)
    for name in wanted:
        topic = name.split(".", 1)[0]
        if topic not in TOPIC_MODULES:
            known = ", ".join(TOPIC_MODULES)
            raise KeyError(f"unknown topic {topic!r}; known topics: {known}")
        importlib.import_module(TOPIC_MODULES[topic])
        if "." in name and name not in _REGISTRY:
            known = ", ".join(e for e in _REGISTRY if e.startswith(f"{topic}."))
            raise KeyError(f"unknown experiment {name!r}; {topic} has: {known}")
    return [exp for exp in _REGISTRY.values() if exp.topic in wanted or exp.name in wanted]


def code_fingerprint(func: Callable[..., Any]) -> str:
    """Hash the source of the module defining ``func`` and of every llmnotes module it imports.

    Imports are followed transitively (including imports inside functions), so a change to a
    helper the experiment uses, say the WordPiece encoder, makes the experiment stale too. The
    pipeline's own modules (:data:`MACHINERY`) are left out: they move results around without
    changing them, and touching them must not re-run every experiment.
    """
    digest = hashlib.sha256()
    for path in sorted(_package_sources(inspect.getsourcefile(func) or "")):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


#: Modules of the pipeline itself, not hashed into experiments' inputs.
MACHINERY = frozenset(
    {"assets", "cli", "experiments", "metrics", "mkdocs_hooks", "notebooks", "pages", "paths",
     "regenerate", "tables"}
)  # fmt: skip


@functools.cache
def _package_sources(start: str) -> frozenset[str]:
    """The source files of ``start`` and of the llmnotes modules it imports, transitively."""
    package_dir = Path(__file__).resolve().parent
    seen: set[str] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen or not Path(path).is_file():
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            names = []
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("llmnotes")
            ):
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.startswith("llmnotes")]
            for name in names:
                parts = name.split(".")[1:]
                candidate = package_dir.joinpath(*parts).with_suffix(".py") if parts else None
                if (
                    candidate is not None
                    and candidate.is_file()
                    and candidate.stem not in MACHINERY
                ):
                    todo.append(str(candidate))
    return frozenset(seen)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators."""
    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)
