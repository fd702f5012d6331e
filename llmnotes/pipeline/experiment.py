"""Experiments: the functions that produce every number and figure on the site.

A topic module registers its experiments with :func:`experiment`. Each one names the assets it
needs (per role, alternatives in order of preference), its settings and its seed; it receives an
:class:`Context` and returns a :class:`Result` of plain values and figures. It never prints, and
it never writes files: :mod:`llmnotes.pipeline.regenerate` does that.

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
import pkgutil
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmnotes.errors import UserError
from llmnotes.pipeline.assets import (
    AssetUnavailable,
    Resolved,
    produced_path,
    resolve,
    resolve_first,
)

#: The store key of an experiment that needs no asset.
NO_ASSETS = "none"
#: The package whose modules are the topics.
TOPICS_PACKAGE = "llmnotes.experiments"


class UnknownExperiment(UserError, KeyError):
    """A topic or experiment name that does not exist; the message lists the known ones."""


def topics() -> list[str]:
    """The topics: the public modules of :mod:`llmnotes.experiments`, in name order.

    A topic is named like its page: the module ``language_models`` is the topic
    ``language-models`` of ``docs/language-models.md``.

    Examples:
        >>> "tokenization" in topics()
        True
    """
    package = importlib.import_module(TOPICS_PACKAGE)
    return sorted(
        info.name.replace("_", "-")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )


def topic_module(topic: str) -> str:
    """The module of a topic's experiments: ``language-models`` → ``…language_models``."""
    return f"{TOPICS_PACKAGE}.{topic.replace('-', '_')}"


@dataclass
class FigureOutput:
    """A figure an experiment made, with the alt text the page shows for it.

    A figure is either drawn with Matplotlib (``figure``) or is an interactive chart
    (``chart``, a Vega-Lite spec from :mod:`llmnotes.charts`), whose static SVG the pipeline
    renders from the same spec.

    Attributes:
        figure: The Matplotlib figure, saved as SVG.
        alt: The alt text.
        chart: An Altair chart or a Vega-Lite spec, drawn by the page in the browser.

    Raises:
        ValueError: Neither or both of ``figure`` and ``chart`` were given.
    """

    figure: Any
    alt: str
    chart: Any = None

    def __post_init__(self) -> None:
        if (self.figure is None) == (self.chart is None):
            raise ValueError("a FigureOutput takes a Matplotlib figure or a chart, not both")


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
        outputs: For each asset the experiment produces, the folder to write it to.
    """

    assets: dict[str, Resolved]
    settings: dict[str, Any]
    seed: int
    progress: Callable[..., Iterable[Any]] = field(default=lambda iterable, **_: iterable)
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class SpeedRow:
    """One line of the performance summary, declared by the speed experiment that measures it.

    Attributes:
        label: What is compared, with its unit.
        measured: The path of the measured value in the experiment's values (``a.b.-1``).
        peer: The path of the value it is compared with (the library's), if any.
        scale: A factor applied to both before formatting (1000 for seconds shown in ms).
        fmt: The format of both values.
        ratio: Whether to show measured / peer.
    """

    label: str
    measured: str
    peer: str | None = None
    scale: float = 1.0
    fmt: str = ".3g"
    ratio: bool = True


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
        produces: The assets it writes (a trained model), which other experiments consume.
        speed: For a speed experiment (from-scratch code timed against its library), the lines
            it adds to the performance summary; ``scripts/bench.py`` reruns these experiments.
    """

    topic: str
    func: Callable[[Context], Result]
    assets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    produces: tuple[str, ...] = ()
    speed: tuple[SpeedRow, ...] = ()

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

    @property
    def consumes(self) -> frozenset[str]:
        """Every asset name any of its roles can take."""
        return frozenset(name for names in self.assets.values() for name in names)

    def code_hash(self) -> str:
        """Hash what determines the result apart from the assets: code, settings and seed.

        A stored result whose assets do not resolve here can still be told fresh or stale by it.
        """
        return _hash(
            {
                "experiment": self.name,
                "code": code_fingerprint(self.func),
                "settings": self.settings,
                "seed": self.seed,
            }
        )

    def input_hash(self, choice: Choice) -> str:
        """Hash everything that determines the result: code, settings, seed and asset contents."""
        return _hash(
            {
                "code": self.code_hash(),
                "assets": {role: res.fingerprint for role, res in sorted(choice.assets.items())},
            }
        )

    def with_settings(self, **overrides: Any) -> Experiment:
        """The same experiment with some settings replaced, not registered.

        Tests use it for smaller runs, benchmarks for larger ones.
        """
        return Experiment(
            self.topic,
            self.func,
            self.assets,
            {**self.settings, **overrides},
            self.seed,
            self.produces,
            self.speed,
        )

    def run(
        self,
        choice: Choice,
        progress: Callable[..., Iterable[Any]] | None = None,
        outputs: Mapping[str, Path] | None = None,
    ) -> Result:
        """Seed the random generators and run the experiment on ``choice``.

        Args:
            choice: The assets to run on.
            progress: Wraps iterables in progress bars.
            outputs: Where to write each produced asset (default: its registered place).
        """
        seed_everything(self.seed)
        folders = {name: produced_path(name) for name in self.produces}
        folders.update(outputs or {})
        context = Context(dict(choice.assets), dict(self.settings), self.seed, outputs=folders)
        if progress is not None:
            context.progress = progress
        return self.func(context)


def _hash(payload: Mapping[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


_REGISTRY: dict[str, Experiment] = {}


def experiment(
    topic: str,
    *,
    assets: Mapping[str, tuple[str, ...]] | None = None,
    settings: Mapping[str, Any] | None = None,
    seed: int = 0,
    produces: tuple[str, ...] = (),
    speed: tuple[SpeedRow, ...] = (),
    register: bool = True,
) -> Callable[[Callable[[Context], Result]], Experiment]:
    """Register the decorated function as an experiment of ``topic``.

    Args:
        topic: The topic it belongs to.
        assets: Role to alternative asset names, most preferred first.
        settings: JSON-ready settings (hashed: changing one re-runs the experiment).
        seed: The seed applied before each run.
        produces: Registered assets it writes into ``ctx.outputs[name]``; experiments that
            consume them run after it, and again whenever it ran.
        speed: Its lines in the performance summary, which make it a speed experiment.
        register: Add it to the registry (tests pass ``False``).
    """

    def decorate(func: Callable[[Context], Result]) -> Experiment:
        exp = Experiment(
            topic, func, dict(assets or {}), dict(settings or {}), seed, produces, speed
        )
        if register:
            _REGISTRY[exp.name] = exp
        return exp

    return decorate


def load_topics(names: Iterable[str] | None = None) -> list[Experiment]:
    """Import the topic modules and return their experiments, producers before consumers.

    Args:
        names: Topic names (``embeddings``) or single experiments
            (``embeddings.week1_similarity``); all topics when empty.

    Raises:
        UnknownExperiment: A topic or experiment is unknown; the message lists the known ones.
    """
    known = topics()
    wanted = list(names) if names else known
    for name in wanted:
        topic = name.split(".", 1)[0]
        if topic not in known:
            raise UnknownExperiment(f"unknown topic {topic!r}; known topics: {', '.join(known)}")
        importlib.import_module(topic_module(topic))
        if "." in name and name not in _REGISTRY:
            listed = ", ".join(e for e in _REGISTRY if e.startswith(f"{topic}."))
            raise UnknownExperiment(f"unknown experiment {name!r}; {topic} has: {listed}")
    chosen = [exp for exp in _REGISTRY.values() if exp.topic in wanted or exp.name in wanted]
    return producers_first(chosen)


def producers_first(experiments: Iterable[Experiment]) -> list[Experiment]:
    """Order experiments so that each one runs after those producing an asset it consumes.

    The order is otherwise kept (topics by name, then registration order).

    Raises:
        ValueError: Two experiments consume each other's products.
    """
    todo = list(experiments)
    ordered: list[Experiment] = []
    while todo:
        pending = {name for exp in todo for name in exp.produces}
        ready = next((e for e in todo if not (e.consumes & (pending - set(e.produces)))), None)
        if ready is None:
            raise ValueError(f"a cycle of produced assets among {[e.name for e in todo]}")
        ordered.append(ready)
        todo.remove(ready)
    return ordered


def code_fingerprint(func: Callable[..., Any]) -> str:
    """Hash the source of the module defining ``func`` and of every llmnotes module it imports.

    Imports are followed transitively (including imports inside functions), so a change to a
    teaching module the experiment uses, say the WordPiece encoder, makes the experiment stale
    too. Nothing under :mod:`llmnotes.pipeline` is followed: the pipeline moves results around
    without changing them, and touching it must not re-run every experiment.

    Only code counts (:func:`code_text`): fixing a docstring or a comment leaves results fresh.
    """
    digest = hashlib.sha256()
    for path in sorted(_package_sources(inspect.getsourcefile(func) or "")):
        digest.update(code_text(Path(path).read_text(encoding="utf-8")).encode())
    return digest.hexdigest()[:16]


def _docstring_lines(tree: ast.AST, lines: list[str]) -> set[int]:
    """The line numbers (from 1) of the docstrings in ``tree`` that occupy whole lines."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = body[0] if body else None
        if not (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
            and first.end_lineno is not None
        ):
            continue
        start = lines[first.lineno - 1].encode()[: first.col_offset]
        end = lines[first.end_lineno - 1].encode()[first.end_col_offset :]
        if not start.strip() and not end.strip():  # nothing else on its lines
            found.update(range(first.lineno, first.end_lineno + 1))
    return found


def code_text(source: str) -> str:
    r"""``source`` without its docstrings and comments: the part that can change a result.

    Everything else is kept as written, blank lines and string contents included.

    >>> code_text("def f():\n    '''Say one.'''\n    # why\n    return 1  # one\n")
    'def f():\n    return 1\n'
    """
    import io
    import tokenize

    lines = source.splitlines(keepends=True)
    dropped = _docstring_lines(ast.parse(source), lines)
    cuts: dict[int, int] = {}  # line number -> where its comment starts
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            cuts[token.start[0]] = token.start[1]
    kept = []
    for number, line in enumerate(lines, start=1):
        if number in dropped:
            continue
        if number in cuts:
            line = line[: cuts[number]].rstrip()
            if not line:
                continue
            line += "\n"
        kept.append(line)
    return "".join(kept)


PACKAGE_DIR = Path(__file__).resolve().parents[1]
PIPELINE_DIR = Path(__file__).resolve().parent


def module_file(name: str) -> Path | None:
    """The source file of the llmnotes module ``name`` (``llmnotes.bpe``), if there is one."""
    parts = name.split(".")[1:]
    if not parts:
        return None
    base = PACKAGE_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def llmnotes_imports(path: Path) -> set[str]:
    """The llmnotes modules a source file imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("llmnotes"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("llmnotes"))
    return {name for name in found if module_file(name) is not None}


@functools.cache
def _package_sources(start: str) -> frozenset[str]:
    """The source files of ``start`` and of the llmnotes modules it imports, transitively."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen or not Path(path).is_file():
            continue
        seen.add(path)
        for name in llmnotes_imports(Path(path)):
            candidate = module_file(name)
            if candidate is not None and PIPELINE_DIR not in candidate.parents:
                todo.append(str(candidate))
    return frozenset(seen)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators."""
    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)
