"""The ``llmnotes`` command line: assets, regenerate, build and serve.

Every command answers ``--help``. Errors a user can fix (a missing asset, an unknown topic, a
malformed metrics file) print one line naming the fix and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from llmnotes import __version__
from llmnotes.errors import UserError
from llmnotes.pipeline.assets import REGISTRY, AssetUnavailable, enter_offline_mode, is_offline
from llmnotes.pipeline.files import (
    kind_of,
    output_target,
    outside,
    outside_the_site,
    readable_path,
)
from llmnotes.pipeline.paths import docs_dir, metrics_path, repo_root
from llmnotes.pipeline.tables import format_table


class UsageError(UserError):
    """A command line that cannot be run as given; printed as one line."""


def parse_asset_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """Turn ``NAME=PATH`` strings into a mapping.

    Raises:
        UsageError: A pair has no ``=`` or names an unknown asset.
        FileProblem: The path does not exist or is neither a file nor a folder.
    """
    overrides = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not path:
            raise UsageError(f"--asset expects NAME=PATH, got {pair!r}")
        if name not in REGISTRY:
            raise UsageError(f"--asset names unknown asset {name!r}; known: {', '.join(REGISTRY)}")
        readable_path(path, f"--asset {name}")
        overrides[name] = path
    return overrides


def _decide_offline(flag: bool) -> bool:
    offline = is_offline(flag)
    if offline:
        enter_offline_mode()
    return offline


def cmd_assets(args: argparse.Namespace) -> int:
    """List every asset, whether it resolves, and from where."""
    offline = _decide_offline(args.offline)
    overrides = parse_asset_overrides(args.asset)
    rows = [("asset", "status", "source", "location")]
    for asset in REGISTRY.values():
        # Look locally only: listing must never download or wait on the network.
        try:
            found = asset.resolve(overrides.get(asset.name), offline=True)
            rows.append((asset.name, "ok", found.kind, found.location))
        except AssetUnavailable:
            remote = [s for s in asset.sources if s.kind in {"hub", "gensim"}]
            if remote and not offline:
                rows.append((asset.name, "online", remote[0].kind, remote[0].how_to_provide()))
            else:
                ways = " or ".join(asset.ways_to_provide())
                if asset.stand_ins:
                    ways = f"offline stand-in: {', '.join(asset.stand_ins)}; to get it: {ways}"
                rows.append((asset.name, "missing", "-", ways))
    print(format_table(rows))
    print(
        f"\n({'offline' if offline else 'online'}; an explicit path: --asset NAME=PATH "
        "or the LLMNOTES_<NAME> variable)"
    )
    return 0


def cmd_regenerate(args: argparse.Namespace) -> int:
    """Run the stale experiments of the given topics (all topics by default)."""
    offline = _decide_offline(args.offline)
    overrides = parse_asset_overrides(args.asset)
    from llmnotes.pipeline.experiment import load_topics
    from llmnotes.pipeline.metrics import MetricsStore
    from llmnotes.pipeline.regenerate import regenerate, stale_entries, summary_table

    experiments = load_topics(args.topics)
    store = MetricsStore(metrics_path(), drop_forged=True)
    for name in store.forged if not args.check else ():
        print(f"set aside {name}: edited by hand; a rerun replaces it", file=sys.stderr)
    if args.check:
        stale = stale_entries(experiments, store, docs_dir(), offline=offline)
        for line in stale:
            print(f"stale: {line}")
        print(f"{len(stale)} stale entr{'y' if len(stale) == 1 else 'ies'}")
        return 1 if stale else 0
    start = time.perf_counter()
    outcomes = regenerate(
        experiments,
        store,
        docs_dir(),
        offline=offline,
        force=args.force,
        overrides=overrides,
        show_progress=not args.quiet,
        all_assets=args.all_assets,
        produce_missing=bool(args.topics),
    )
    print(summary_table(outcomes))
    counts = {
        s: sum(o.status == s for o in outcomes) for s in ("ran", "unchanged", "skipped", "failed")
    }
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    print(
        f"\n{summary} in {time.perf_counter() - start:.1f}s "
        f"({'offline' if offline else 'online'}); "
        f"metrics in {metrics_path().relative_to(repo_root())}"
    )
    return 1 if counts["failed"] else 0


def cmd_tokenize(args: argparse.Namespace) -> int:
    """Print the tokens (and ids) of a text."""
    offline = _decide_offline(args.offline)
    from llmnotes.pipeline.inputs import tokenize_with
    from llmnotes.pipeline.paths import cache_dir

    method = getattr(args, "with")
    if args.ids and method == "nltk":
        raise UsageError("NLTK word tokens have no ids; use --with bert or --with bpe")
    result = tokenize_with(method, " ".join(args.text), cache_dir(), offline=offline)
    print(f"tokens: {result.tokens}")
    if args.ids:
        print(f"ids:    {result.ids}")
    print(f"({result.source})", file=sys.stderr)
    return 0


def _open_vectors(args: argparse.Namespace) -> tuple[object, str]:
    from llmnotes.pipeline.inputs import open_vectors

    return open_vectors(args.vectors, offline=_decide_offline(args.offline))


def cmd_similarity(args: argparse.Namespace) -> int:
    """Print the cosine similarity of two words."""
    from llmnotes.embeddings import check_word, cosine

    vectors, source = _open_vectors(args)
    for word in (args.first, args.second):
        check_word(vectors, word)
    value = cosine(vectors[args.first], vectors[args.second])
    print(f"{value:.{args.digits}f}")
    print(f"(cosine of {args.first!r} and {args.second!r}; {source})", file=sys.stderr)
    return 0


def cmd_neighbours(args: argparse.Namespace) -> int:
    """Print the nearest words of a word."""
    from llmnotes.embeddings import neighbours

    vectors, source = _open_vectors(args)
    found = neighbours(vectors, args.word, args.k)
    print(format_table([("word", "cosine"), *[(w, f"{s:.4f}") for w, s in found]]))
    print(f"({source})", file=sys.stderr)
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    """Fine-tune a classifier and print its final metrics."""
    offline = _decide_offline(args.offline)
    from llmnotes.finetune import FinetuneConfig, finetune
    from llmnotes.pipeline.inputs import finetune_inputs

    config = FinetuneConfig(
        epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_length=args.max_length,
        seed=args.seed, early_stopping=args.early_stopping, progress=not args.quiet,
        lora_rank=args.lora, lora_alpha=args.lora_alpha, precision=args.precision,
    )  # fmt: skip
    output = outside_the_site(args.output, "--output")
    if output.exists() and not output.is_dir():
        what = kind_of(output.stat().st_mode)
        raise UsageError(f"--output {args.output} is {what}; give a folder (new or empty)")
    model, splits = finetune_inputs(args, offline=offline)
    metrics = finetune(model, splits["train"], splits["validation"], output, config,
                       test=splits.get("test"), resume=args.resume,
                       overwrite=args.overwrite)  # fmt: skip
    if os.environ.get("RANK", "0") != "0":
        return 0  # one table, from the first process
    scored = {
        split: {k: metrics[f"{split}_{k}"] for k in ("accuracy", "f1", "loss")}
        for split in ("validation", "test")
        if f"{split}_accuracy" in metrics
    }
    print(split_table(scored))
    labels = ", ".join(f"{i}={name}" for i, name in enumerate(splits["train"].label_names))
    print(f"\nlabels: {labels}")
    print(
        f"{metrics['train_samples_per_second']:.1f} samples/s, {metrics['train_seconds']:.0f} s "
        f"on {metrics['world_size']} process(es); classifier saved to {args.output}"
    )
    return 0


def split_table(scored: dict[str, dict[str, float]]) -> str:
    """The table ``finetune`` and ``evaluate`` print: one row per split, accuracy, F1, loss."""
    rows = [("split", "accuracy", "F1", "loss")]
    rows += [
        (split, *(f"{m[k]:.4f}" for k in ("accuracy", "f1", "loss"))) for split, m in scored.items()
    ]
    return format_table(rows)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Measure a saved classifier on labelled data: the scores, confusion matrix, per label."""
    import json

    offline = _decide_offline(args.offline)
    from llmnotes.evaluation import evaluate_classifier
    from llmnotes.pipeline.files import write_atomic
    from llmnotes.pipeline.inputs import labelled_data, model_location, trained_max_length

    if args.quiet:
        from transformers.utils import logging

        logging.disable_progress_bar()
    folder = model_location(args.model, offline)
    if isinstance(folder, Path):
        require_classifier(folder, args.model)
    target = output_target(outside_the_site(args.json, "--json"), "--json") if args.json else None
    data = labelled_data(args.test, args.text_column, args.label_column)
    max_length = args.max_length or trained_max_length(folder)
    try:
        result = evaluate_classifier(
            folder, data, args.batch_size, max_length, progress=None if args.quiet else _bar
        )
    except (OSError, ValueError) as error:
        if isinstance(error, UserError):
            raise
        raise not_a_classifier(args.model, error) from None
    print(
        split_table({"test": {"accuracy": result.accuracy, "f1": result.f1, "loss": result.loss}})
    )
    print("\nconfusion matrix (rows: true label, columns: predicted)")
    print(format_table([("", *result.labels)] + [
        (name, *map(str, row)) for name, row in zip(result.labels, result.confusion, strict=True)
    ]))  # fmt: skip
    print()
    rows = [("label", "precision", "recall", "F1", "support")]
    for name, m in result.per_class.items():
        rows.append(
            (name, *(f"{m[k]:.4f}" for k in ("precision", "recall", "f1")), str(m["support"]))
        )
    print(format_table(rows))
    print(f"\n{result.examples:,} examples, max length {max_length}; {args.model}", file=sys.stderr)
    if target is not None:
        write_atomic(target, (json.dumps(result.as_dict(), indent=2) + "\n").encode(), "--json")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


def _bar(iterable: object) -> object:
    from tqdm.auto import tqdm

    return tqdm(iterable, desc="batches", unit="batch", leave=False, file=sys.stderr)


def cmd_sentiment(args: argparse.Namespace) -> int:
    """Print the label and score of each text (or, with ``--file``, write one line per text)."""
    offline = _decide_offline(args.offline)
    from llmnotes.experiments.transformers import classify
    from llmnotes.pipeline.assets import resolve_first
    from llmnotes.pipeline.inputs import model_location, texts_to_classify

    if bool(args.text) == bool(args.file):
        raise UsageError("give the texts on the command line or --file FILE, one of the two")
    if args.text_column and not args.file:
        raise UsageError("--text-column names a column of the table given with --file")
    texts = texts_to_classify(args.file, args.text_column) if args.file else [
        text for text in args.text if text.strip()
    ]  # fmt: skip
    if not texts:
        raise UsageError("nothing to classify: the text is empty")
    if args.model:
        folder, source = model_location(args.model, offline), args.model
    else:
        try:
            found, _ = resolve_first(("distilbert-sst2", "minilm-sst2"), offline=offline)
        except AssetUnavailable as error:
            raise no_classifier_here(error, offline) from None
        folder, source = found.path, f"{found.asset} ({found.location})"
    if isinstance(folder, Path):
        require_classifier(folder, source)
    try:
        if isinstance(folder, Path):
            for note in truncation_notes(folder, texts):
                print(f"note: {note}", file=sys.stderr)
        batches = range(0, len(texts), args.batch_size)
        show = args.file and len(texts) > args.batch_size and not args.quiet
        results = [
            result
            for start in (_bar(batches) if show else batches)
            for result in classify(folder, texts[start : start + args.batch_size])
        ]
    except (OSError, ValueError) as error:
        raise not_a_classifier(source, error) from None
    if args.file:
        write_classified(texts, results, args.format)
    else:
        rows = [("label", "score", "text")]
        rows += [(r["label"], f"{r['score']:.5f}", t) for r, t in zip(results, texts, strict=True)]
        print(format_table(rows))
    print(f"({len(texts):,} text(s); {source})", file=sys.stderr)
    return 0


def write_classified(texts: list[str], results: list[dict[str, object]], fmt: str) -> None:
    """One line per text on standard output: ``label<TAB>score<TAB>text`` or a JSON object.

    A text's tabs and line breaks are shown as spaces in TSV, so each line stays one record.
    """
    import json

    for text, result in zip(texts, results, strict=True):
        if fmt == "jsonl":
            line = {"text": text, "label": result["label"], "score": result["score"]}
            print(json.dumps(line, ensure_ascii=False))
        else:
            flat = " ".join(text.split())
            print(f"{result['label']}\t{result['score']:.5f}\t{flat}")


def no_classifier_here(error: AssetUnavailable, offline: bool) -> UserError:
    """What to do when no sentiment classifier resolves, naming only what works here.

    Where SST-2 resolves, ``llmnotes regenerate finetuning`` trains the site's classifier; where
    it does not (offline, without the shared data), that command would skip, so the advice is a
    classifier trained on any labelled file, for example the 200 sentences gensim ships.
    """
    from llmnotes.pipeline.regenerate import resolves

    if resolves("sst2"):
        return UsageError(str(error))
    example = (
        "; for example on the 200 labelled movie-review sentences gensim ships, "
        f"`llmnotes finetune --train pang-lee --epochs 5 --lr 1e-4 --output DIR`"
        f"{pang_lee_accuracy()}"
    )
    online = "run without --offline to download distilbert-sst2, or " if offline else ""
    return UsageError(
        "no sentiment classifier here, and SST-2 (to train the site's own) is not available: "
        f"{online}train one on any labelled file with `llmnotes finetune --train FILE --output "
        f"DIR` and pass `--model DIR`{example}"
    )


def pang_lee_accuracy() -> str:
    """The store's cross-validated accuracy of MiniLM on gensim's 200 sentences, as a clause."""
    from llmnotes.pipeline.metrics import MetricsStore, MetricsStoreError, MissingMetric

    try:
        accuracy = MetricsStore(metrics_path()).value("finetuning.pang_lee_cv", "mean_accuracy")
    except (MetricsStoreError, MissingMetric):
        return ""
    share = f"{float(accuracy):.0%}"
    return f" (the fine-tuning page measures {share} accuracy on them, 5-fold cross-validated)"


def not_a_classifier(source: str, error: Exception) -> UsageError:
    """The one line for a model that transformers cannot load as a text classifier."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return UsageError(f"cannot load {source} as a text classifier: {reason}")


def require_classifier(folder: Path, source: str) -> None:
    """Refuse a model folder without a classification head (its label would be random).

    Raises:
        UsageError: The folder's ``config.json`` names no ``…ForSequenceClassification``.
    """
    import json

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # loading it reports what is wrong with the folder
    architectures = config.get("architectures") or [] if isinstance(config, dict) else []
    if not any(str(a).endswith("ForSequenceClassification") for a in architectures):
        named = ", ".join(map(str, architectures)) or "no architecture"
        raise UsageError(
            f"{source} is an encoder without a classification head ({named}), so its labels "
            "would be random; pass a classifier (a folder written by `llmnotes finetune`, "
            "distilbert-sst2, minilm-sst2)"
        )


def truncation_notes(folder: Path, texts: list[str]) -> list[str]:
    """One note per text longer than the model reads: only its first tokens are classified."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    limit = min(tokenizer.model_max_length, 512)
    notes = []
    for number, text in enumerate(texts, start=1):
        length = len(tokenizer(text)["input_ids"])
        if length > limit:
            notes.append(f"text {number} has {length:,} tokens; only its first {limit} are read")
    return notes


def cmd_generate(args: argparse.Namespace) -> int:
    """Continue a prompt with the site's character GPT (or another causal language model)."""
    offline = _decide_offline(args.offline)
    from llmnotes.decoding import SamplingSettings
    from llmnotes.pipeline.generation import continue_prompt

    settings = SamplingSettings(
        temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        repetition_penalty=args.repetition_penalty, max_new_tokens=args.max_new_tokens,
    )  # fmt: skip
    result = continue_prompt(
        args.prompt, settings, args.model, args.seed, use_cache=not args.no_cache, offline=offline
    )
    print(result.text)
    cache = "with the KV cache" if result.cache else "without the KV cache"
    print(
        f"({result.new_tokens} new tokens in {result.seconds:.2f} s, "
        f"{result.tokens_per_second:,.0f} tokens/s, {cache}; {result.model})",
        file=sys.stderr,
    )
    return 0


#: The longest text ``llmnotes attention`` draws (a 128 × 128 map is already hard to read).
MAX_ATTENTION_TOKENS = 128


def cmd_attention(args: argparse.Namespace) -> int:
    """Write a heat map of one attention head (or all heads of a layer) for a text."""
    _decide_offline(args.offline)
    from llmnotes.experiments.transformers import (
        attention_grid,
        attention_heatmap,
        attention_weights,
    )
    from llmnotes.pipeline.assets import resolve
    from llmnotes.pipeline.metrics import save_svg

    if not args.text.strip():
        raise UsageError("nothing to show: the text is empty")
    out = output_target(outside_the_site(args.out, "--out"), "--out")
    folder = resolve("minilm", offline=True).path
    from transformers import AutoTokenizer

    length = len(AutoTokenizer.from_pretrained(str(folder))(args.text)["input_ids"])
    if length > MAX_ATTENTION_TOKENS:
        raise UsageError(
            f"the text has {length:,} tokens; a heat map shows at most {MAX_ATTENTION_TOKENS} "
            "(MiniLM reads 512): shorten it"
        )
    tokens, attentions = attention_weights(folder, args.text)
    if not 0 <= args.layer < len(attentions):
        raise UsageError(f"--layer must be between 0 and {len(attentions) - 1}")
    heads = attentions[args.layer].shape[0]
    if args.head is not None and not 0 <= args.head < heads:
        raise UsageError(f"--head must be between 0 and {heads - 1}")
    if args.head is None:
        fig = attention_grid(attentions[args.layer], f"All {heads} heads of layer {args.layer}")
    else:
        title = f"Layer {args.layer}, head {args.head}"
        fig = attention_heatmap(attentions[args.layer][args.head], tokens, title)
    save_svg(fig, out)
    print(f"wrote {args.out} ({len(tokens)} tokens, layer {args.layer})")
    return 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    """Write the notebooks generated from the pages (or, with ``--check``, list stale ones)."""
    require_site_tools("nbformat", "pytest_examples")
    from llmnotes.pipeline.notebooks import write_notebooks

    changed = write_notebooks(docs_dir(), check=args.check)
    verb = "stale" if args.check else "written"
    for name in changed:
        print(f"{verb}: docs/{name}")
    print(f"{len(changed)} notebook(s) {verb}")
    return 1 if args.check and changed else 0


def require_site_tools(*modules: str) -> None:
    """Stop with one line when the ``site`` extra (MkDocs and its plugins) is not installed.

    Raises:
        UsageError: One of ``modules`` cannot be imported.
    """
    import importlib.util

    if missing := [m for m in modules if importlib.util.find_spec(m) is None]:
        raise UsageError(
            f"this command needs the site tools ({', '.join(missing)} missing): "
            "pip install -e '.[site]' in the checkout, or run bash scripts/site.sh"
        )


def _mkdocs(*arguments: str) -> int:
    require_site_tools("mkdocs", "material")
    config = repo_root() / "mkdocs.yml"
    if not config.is_file():
        raise UsageError(f"no mkdocs.yml at {repo_root()}; run this in an llmnotes checkout")
    command = [sys.executable, "-m", "mkdocs", *arguments, "-f", str(config)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.call(command, cwd=repo_root(), env=env)


#: The file in a built site that records what it was built from.
BUILD_STAMP = ".llmnotes-build"


def cmd_build(args: argparse.Namespace) -> int:
    """Build the site with ``mkdocs build`` (strict by default), unless it is up to date.

    The build goes to a new folder beside the site, swapped in only when it succeeds, so a
    failed or interrupted build leaves the last good site as it was.
    """
    import shutil

    from llmnotes.pipeline.site_config import build_inputs_hash

    why = "the site's sources; build the site outside them"
    site = outside(repo_root() / args.site_dir, "--site-dir", [docs_dir().resolve()], why)
    site = site.resolve()
    stamp = site / BUILD_STAMP
    if site.exists() and not site.is_dir():
        raise UsageError(f"--site-dir {args.site_dir} is a file; give a folder for the site")
    if site.is_dir() and any(site.iterdir()) and not stamp.is_file():
        raise UsageError(
            f"--site-dir {site} holds files that are not an llmnotes build (no {BUILD_STAMP}); "
            "give a new or empty folder, nothing there was changed"
        )
    wanted = f"{build_inputs_hash()} strict={args.strict}"
    if not args.force and stamp.is_file() and stamp.read_text() == wanted:
        print(f"Site in {site} is up to date: nothing it is built from changed (--force rebuilds).")
        return 0
    building = site.parent / f".{site.name}.building-{os.getpid()}"
    extra = ["--strict"] if args.strict else []
    try:
        code = _mkdocs("build", *extra, "--site-dir", str(building))
        if code != 0:
            print(f"The build failed; the previous site in {site} is unchanged.", file=sys.stderr)
            return code
        building.mkdir(parents=True, exist_ok=True)
        (building / BUILD_STAMP).write_text(wanted)
        retired = site.parent / f".{site.name}.old-{os.getpid()}"
        if site.exists():
            site.rename(retired)
        building.rename(site)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    print(f"Site built in {site}; open {site / 'index.html'} or run `llmnotes serve`.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the site with live reload (``mkdocs serve``)."""
    host, _, port = args.dev_addr.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(
            f"--dev-addr {args.dev_addr!r}: give HOST:PORT with a port from 1 to 65535 "
            "(default 127.0.0.1:8000)"
        )
    return _mkdocs("serve", "--dev-addr", args.dev_addr)


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, or a one-line usage error.

    >>> whole_number(1, 10)("3")
    3
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number from {low:,} to {high:,}"
            )
        return value

    return parse


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other error here."""

    def error(self, message: str) -> NoReturn:
        """Print ``llmnotes: error: …`` with a pointer to ``--help``, and exit with status 2."""
        command = self.prog.removeprefix("llmnotes").strip()
        where = f"{command}: " if command else ""
        print(
            f"llmnotes: error: {where}{one_line(message)} (see `{self.prog} --help`)",
            file=sys.stderr,
        )
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every command."""
    from llmnotes.finetune import PRECISIONS

    parser = OneLineParser(
        prog="llmnotes", description="Regenerate, build and serve the llmnotes site."
    )
    parser.add_argument("--version", action="version", version=f"llmnotes {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_asset_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--offline", action="store_true", help="never touch the network")
        sub.add_argument(
            "--asset",
            action="append",
            default=[],
            metavar="NAME=PATH",
            help="use a local file or folder for an asset (repeatable)",
        )

    assets = commands.add_parser("assets", help="list every asset and where it resolves from")
    add_asset_options(assets)
    assets.set_defaults(func=cmd_assets)

    regen = commands.add_parser("regenerate", help="run stale experiments, update metrics/figures")
    regen.add_argument(
        "topics",
        nargs="*",
        metavar="TOPIC",
        help="topics (embeddings) or experiments (embeddings.week1_similarity); default: all",
    )
    add_asset_options(regen)
    regen.add_argument("--force", action="store_true", help="run even when inputs are unchanged")
    regen.add_argument(
        "--check", action="store_true", help="only report stored entries that are stale here"
    )
    regen.add_argument(
        "--all-assets",
        action="store_true",
        help="run on stand-ins too, even where a fresh result on the preferred asset is stored",
    )
    regen.add_argument("--quiet", action="store_true", help="no progress bars")
    regen.set_defaults(func=cmd_regenerate)

    tokenize = commands.add_parser("tokenize", help="print the tokens (and ids) of a text")
    tokenize.add_argument("text", nargs="+", metavar="TEXT", help="the text (words are joined)")
    tokenize.add_argument(
        "--with",
        default="bert",
        metavar="METHOD",
        help="bert (WordPiece), nltk or bpe (default: bert)",
    )
    tokenize.add_argument("--ids", action="store_true", help="print the token ids too")
    tokenize.add_argument("--offline", action="store_true", help="never touch the network")
    tokenize.set_defaults(func=cmd_tokenize)

    def add_vectors_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--vectors",
            metavar="NAME|PATH",
            help="an asset (glove-wiki-gigaword-50, minilm) or a GloVe/word2vec text file "
            "(default: GloVe, or MiniLM's static embeddings offline)",
        )
        sub.add_argument("--offline", action="store_true", help="never touch the network")

    similarity = commands.add_parser("similarity", help="cosine similarity of two words")
    similarity.add_argument("first", metavar="WORD")
    similarity.add_argument("second", metavar="WORD")
    similarity.add_argument(
        "--digits", type=whole_number(0, 17), default=4, help="decimals shown (default: 4)"
    )
    add_vectors_options(similarity)
    similarity.set_defaults(func=cmd_similarity)

    neighbours = commands.add_parser("neighbours", help="the nearest words of a word")
    neighbours.add_argument("word", metavar="WORD")
    neighbours.add_argument(
        "-k", type=whole_number(1, 1000), default=10, help="how many (default: 10)"
    )
    add_vectors_options(neighbours)
    neighbours.set_defaults(func=cmd_neighbours)

    tune = commands.add_parser("finetune", help="fine-tune a text classifier")
    tune.add_argument(
        "--model", default="minilm", help="asset, model folder or hub id (default: minilm)"
    )
    tune.add_argument(
        "--train", nargs="+", required=True, metavar="DATA",
        help="sst2, pang-lee, a file, a folder, LABEL=FILE pairs, or hub/id:split",
    )  # fmt: skip
    tune.add_argument(
        "--eval", nargs="+", metavar="DATA", help="validation data (default: 10%% of train)"
    )
    tune.add_argument(
        "--test", nargs="+", metavar="DATA", help="test data, evaluated once at the end"
    )
    tune.add_argument("--text-column", help="text column of a table")
    tune.add_argument("--label-column", help="label column of a table")
    tune.add_argument("--epochs", type=float, default=3)
    tune.add_argument("--lr", type=float, default=5e-5)
    tune.add_argument("--batch-size", type=int, default=32)
    tune.add_argument("--max-length", type=int, default=64)
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument(
        "--early-stopping", type=int, metavar="EPOCHS", help="stop after N epochs without gain"
    )
    tune.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="auto: bf16 autocast where it measures faster than fp32 here, else fp32; bf16: "
        "bf16 wherever the hardware has it (default: auto)",
    )
    tune.add_argument(
        "--lora",
        type=whole_number(1, 4096),
        metavar="RANK",
        help="train LoRA adapters of this rank (and the head) instead of every weight",
    )
    tune.add_argument(
        "--lora-alpha", type=float, metavar="ALPHA", help="LoRA scale numerator (default: RANK)"
    )
    tune.add_argument(
        "--resume", action="store_true", help="continue this run from its last checkpoint"
    )
    tune.add_argument(
        "--overwrite", action="store_true", help="replace a classifier already in --output"
    )
    tune.add_argument("--output", required=True, help="folder for the classifier")
    tune.add_argument("--offline", action="store_true", help="never touch the network")
    tune.add_argument("--quiet", action="store_true", help="no progress bar")
    tune.set_defaults(func=cmd_finetune)

    evaluate = commands.add_parser("evaluate", help="measure a saved classifier on labelled data")
    evaluate.add_argument("--model", required=True, metavar="DIR|NAME",
                          help="a folder written by finetune, an asset or a hub id")  # fmt: skip
    evaluate.add_argument("--test", nargs="+", required=True, metavar="DATA",
                          help="labelled data, in any format finetune reads")  # fmt: skip
    evaluate.add_argument("--text-column", help="text column of a table")
    evaluate.add_argument("--label-column", help="label column of a table")
    evaluate.add_argument(
        "--batch-size", type=whole_number(1, 4096), default=64, help="default: 64"
    )
    evaluate.add_argument(
        "--max-length",
        type=whole_number(2, 100_000),
        help="tokens read per text (default: the length the model was trained with, else 512)",
    )
    evaluate.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    evaluate.add_argument("--offline", action="store_true", help="never touch the network")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.set_defaults(func=cmd_evaluate)

    sentiment = commands.add_parser("sentiment", help="label and score of each text")
    sentiment.add_argument("text", nargs="*", metavar="TEXT")
    sentiment.add_argument(
        "--file",
        metavar="FILE",
        help="texts to classify: one a line, or a table's text column (.csv/.tsv/.json/.jsonl/"
        ".parquet); one result a line on standard output",
    )
    sentiment.add_argument("--text-column", help="text column of a table given with --file")
    sentiment.add_argument(
        "--format",
        choices=("tsv", "jsonl"),
        default="tsv",
        help="with --file: label<TAB>score<TAB>text lines, or JSON lines (default: tsv)",
    )
    sentiment.add_argument(
        "--batch-size", type=whole_number(1, 4096), default=64, help="texts a step (default: 64)"
    )
    sentiment.add_argument("--quiet", action="store_true", help="no progress bar")
    sentiment.add_argument(
        "--model",
        metavar="NAME|PATH",
        help="default: distilbert-sst2 online, the project's MiniLM SST-2 classifier offline",
    )
    sentiment.add_argument("--offline", action="store_true", help="never touch the network")
    sentiment.set_defaults(func=cmd_sentiment)

    gen = commands.add_parser("generate", help="continue a prompt with a language model")
    gen.add_argument("prompt", metavar="PROMPT")
    gen.add_argument(
        "--max-new-tokens",
        type=whole_number(1, 100_000),
        default=100,
        metavar="N",
        help="tokens (characters, for the character GPT) to add (default: 100)",
    )
    gen.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        metavar="T",
        help="softmax temperature; 0 = greedy (default: 0.8)",
    )
    gen.add_argument(
        "--top-k", type=whole_number(1, 10**9), metavar="K", help="sample from the K most likely"
    )
    gen.add_argument(
        "--top-p",
        type=float,
        default=1.0,
        metavar="P",
        help="sample from the smallest set of tokens whose probability reaches P",
    )
    gen.add_argument(
        "--repetition-penalty",
        type=float,
        default=1.0,
        metavar="R",
        help="divide the logits of tokens already present by R (default: 1)",
    )
    gen.add_argument(
        "--seed", type=whole_number(0, 2**32 - 1), default=0, help="the sampling seed (default: 0)"
    )
    gen.add_argument("--no-cache", action="store_true", help="recompute every step (slower)")
    gen.add_argument(
        "--model",
        metavar="NAME|PATH",
        help="default: the site's character GPT (char-gpt); gpt2 or a hub id online",
    )
    gen.add_argument("--offline", action="store_true", help="never touch the network")
    gen.set_defaults(func=cmd_generate)  # fmt: skip

    attention = commands.add_parser("attention", help="heat map of MiniLM's attention for a text")
    attention.add_argument("text", metavar="TEXT")
    attention.add_argument("--layer", type=int, required=True, help="layer, from 0")
    attention.add_argument("--head", type=int, help="head, from 0 (default: all heads)")
    attention.add_argument("--out", required=True, metavar="FILE.svg", help="where to write")
    attention.add_argument("--offline", action="store_true", help="never touch the network")
    attention.set_defaults(func=cmd_attention)

    notebooks = commands.add_parser("notebooks", help="generate the notebooks from the pages")
    notebooks.add_argument("--check", action="store_true", help="only list notebooks out of step")
    notebooks.set_defaults(func=cmd_notebooks)

    build = commands.add_parser("build", help="build the site (mkdocs build --strict)")
    build.add_argument("--no-strict", dest="strict", action="store_false", help="allow warnings")
    build.add_argument("--site-dir", default="site", help="output folder (default: site)")
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build.set_defaults(func=cmd_build)

    serve = commands.add_parser("serve", help="serve the site with live reload")
    serve.add_argument(
        "--dev-addr", default="127.0.0.1:8000", help="address (default: %(default)s)"
    )
    serve.set_defaults(func=cmd_serve)
    return parser


def command_names() -> list[str]:
    """Every command of the command line, as the parser knows them."""
    parser = build_parser()
    for action in parser._subparsers._group_actions:  # argparse keeps them nowhere public
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


#: What an interrupted command (Ctrl-C) leaves behind, by command; the others write nothing
#: or write atomically.
KEPT_ON_INTERRUPT = {
    "regenerate": "every experiment that finished before it is in the store; "
    "run the same command again to do the rest",
    "finetune": "the checkpoints of the finished epochs are in --output/checkpoints; "
    "continue with the same command and --resume",
    "build": "the previous site is unchanged",
}

#: Characters that would break an error message's single line.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # a usage error (one line, see OneLineParser), --help, --version
        return int(exit_.code or 0)
    try:
        return args.func(args)
    except UserError as error:
        print(f"llmnotes: error: {one_line(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = KEPT_ON_INTERRUPT.get(args.command, "nothing was written")
        print(f"llmnotes: interrupted; {kept}", file=sys.stderr)
        return 130


#: The longest error message printed; the middle of a longer one (a huge input echoed) is cut.
MAX_MESSAGE = 1000


def one_line(message: str) -> str:
    r"""``message`` with control characters (a newline in a file name, say) shown escaped.

    A message over :data:`MAX_MESSAGE` characters keeps its start and end.

    >>> one_line("no such file: a\nb")
    'no such file: a\\nb'
    >>> len(one_line("x" * 5000))
    1000
    """
    message = CONTROL.sub(lambda match: repr(match.group())[1:-1], message)
    if len(message) > MAX_MESSAGE:
        half = (MAX_MESSAGE - 3) // 2
        message = f"{message[:half]} … {message[-(MAX_MESSAGE - 3 - half) :]}"
    return message
