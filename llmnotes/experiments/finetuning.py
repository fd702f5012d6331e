"""The experiments of the fine-tuning page.

MiniLM on SST-2 against baselines, a learning-rate × epochs grid (with a short maximum length,
for week 1's drop), 5-fold cross-validation on gensim's 200 sentences, one process against two,
and LoRA against full fine-tuning. Fine-tuning's speed settings are measured on the performance
page (:func:`llmnotes.experiments.performance.finetune_speed`).
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from llmnotes.attention import mean_pool
from llmnotes.classification_data import LabelledData, pang_lee_data, sst2_splits, stratified_split
from llmnotes.figures import PALETTE, new_figure
from llmnotes.finetune import ADAPTER_FILE, FinetuneConfig, finetune
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, experiment

SST2 = {"data": ("sst2",), "model": ("minilm",)}
#: The classifier :func:`sst2_minilm` trains; the transformers page's sentiment uses it offline.
CLASSIFIER = "minilm-sst2"


def history_figure(histories: dict[str, list[dict[str, float]]], title: str) -> Any:
    """Loss per epoch (dashed: training, solid: validation) and validation accuracy, per run."""
    from matplotlib.ticker import MaxNLocator

    fig, (loss, accuracy) = new_figure(1, 2, figsize=(8.4, 3.6))
    for colour, (label, rows) in zip(PALETTE, histories.items(), strict=False):
        epochs = [row["epoch"] for row in rows]
        loss.plot(epochs, [r["train_loss"] for r in rows], "--", color=colour, marker="o", ms=3)
        loss.plot(
            epochs, [r["validation_loss"] for r in rows], "-", color=colour, marker="o", label=label
        )
        accuracy.plot(
            epochs, [100 * r["validation_accuracy"] for r in rows], "-", color=colour, marker="o"
        )
    for ax in (loss, accuracy):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss.set_ylabel("loss")
    loss.set_title("loss (dashed: training, solid: validation)", fontsize=10, fontweight="normal")
    accuracy.set_ylabel("validation accuracy (%)")
    accuracy.set_title("validation accuracy", fontsize=10, fontweight="normal")
    fig.legend(loc="outside lower center", ncol=len(histories), fontsize=9)
    fig.suptitle(title, fontweight="bold")
    return fig


@experiment(
    "finetuning",
    assets=SST2,
    settings={"epochs": 2, "lr": 5e-5, "batch_size": 32, "max_length": 64},
    produces=(CLASSIFIER,),
)
def sst2_minilm(ctx: Context) -> Result:
    """Fine-tune MiniLM on SST-2's 6,920 training sentences; pick the epoch on dev; test once."""
    splits = sst2_splits(ctx.assets["data"].path)
    config = FinetuneConfig(seed=ctx.seed, progress=False, **ctx.settings)
    output = ctx.outputs[CLASSIFIER]
    metrics = finetune(
        ctx.assets["model"].path,
        splits["train"],
        splits["validation"],
        output,
        config,
        test=splits["test"],
        overwrite=True,  # this experiment makes the classifier: it replaces the last one
    )
    values = {k: v for k, v in metrics.items() if k != "history"}
    values |= {"history": metrics["history"], "train_examples": len(splits["train"])}
    values |= {
        "test_examples": len(splits["test"]),
        "classifier": CLASSIFIER,
    }
    fig = history_figure({"MiniLM, lr 5e-5": metrics["history"]}, "Fine-tuning MiniLM on SST-2")
    alt = "Training and validation loss per epoch of MiniLM fine-tuned on SST-2"
    return Result(values, {"history": FigureOutput(fig, alt)})


def mean_pooled_embeddings(model_path: Any, texts: list[str], batch: int = 64) -> np.ndarray:
    """MiniLM sentence embeddings: the mean of the last hidden states over real tokens.

    The texts are embedded shortest first (each batch padded to a similar length), under bf16
    autocast where it is faster (as fine-tuning picks it); the rows come back in the order of
    ``texts``.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    from llmnotes.evaluation import batches_shortest_first
    from llmnotes.precision import autocast, training_precision

    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    model = AutoModel.from_pretrained(str(model_path), use_safetensors=True).eval()
    encoded = tokenizer(texts, truncation=True, max_length=64)
    rows = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.no_grad(), autocast(training_precision("auto")[0]):
        for chosen in batches_shortest_first([len(ids) for ids in encoded["input_ids"]], batch):
            features = [{k: v[i] for k, v in encoded.items()} for i in chosen]
            padded = tokenizer.pad(features, return_tensors="pt")
            hidden = model(**padded).last_hidden_state
            rows[chosen] = mean_pool(hidden, padded["attention_mask"]).float().numpy()
    return rows


@experiment("finetuning", assets=SST2)
def sst2_baselines(ctx: Context) -> Result:
    """Majority class, TF-IDF + logistic regression, and frozen MiniLM + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    splits = sst2_splits(ctx.assets["data"].path)
    train, test = splits["train"], splits["test"]
    majority = max(set(train.labels), key=train.labels.count)
    results = {"majority": float(np.mean(np.array(test.labels) == majority))}
    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = LogisticRegression(C=4.0, max_iter=2000).fit(
        tfidf.fit_transform(train.texts), train.labels
    )
    results["tfidf_logreg"] = float(model.score(tfidf.transform(test.texts), test.labels))
    embed = ctx.assets["model"].path
    frozen = LogisticRegression(C=1.0, max_iter=2000)
    frozen.fit(mean_pooled_embeddings(embed, train.texts), train.labels)
    results["frozen_minilm_logreg"] = float(
        frozen.score(mean_pooled_embeddings(embed, test.texts), test.labels)
    )
    return Result({"test_accuracy": results, "test_examples": len(test)})


def tweak_costs(
    histories: dict[str, list[dict[str, float]]], base: str, short: str, epochs: int
) -> dict[str, float]:
    """Validation accuracy points each single change loses against the ``base`` run's best epoch.

    The changes: another learning rate (its best epoch); keeping the last of ``epochs`` epochs
    instead of the best, at each learning rate; and the ``short`` maximum length.

    >>> h = {"lr 1": [{"validation_accuracy": 0.8}, {"validation_accuracy": 0.9}],
    ...      "lr 9": [{"validation_accuracy": 0.7}, {"validation_accuracy": 0.6}],
    ...      "short": [{"validation_accuracy": 0.85}, {"validation_accuracy": 0.8}]}
    >>> {k: round(v, 1) for k, v in tweak_costs(h, "lr 1", "short", 2).items()}
    {'lr 9': 20.0, 'lr 1, last of 2 epochs': 0.0, 'lr 9, last of 2 epochs': 30.0, 'short': 5.0}
    """
    best = {name: max(r["validation_accuracy"] for r in rows) for name, rows in histories.items()}
    lrs = [name for name in histories if name != short]
    costs = {name: 100 * (best[base] - best[name]) for name in lrs if name != base}
    for name in lrs:
        last = histories[name][-1]["validation_accuracy"]
        costs[f"{name}, last of {epochs} epochs"] = 100 * (best[base] - last)
    costs[short] = 100 * (best[base] - best[short])
    return costs


@experiment(
    "finetuning",
    assets=SST2,
    settings={
        "train_examples": 1000,
        "lrs": [1e-5, 5e-5, 3e-4],
        "epochs": 4,
        "max_length": 64,
        "base_lr": 5e-5,
        "short_max_length": 12,
    },
)
def lr_epochs_grid(ctx: Context) -> Result:
    """Learning rate × epochs on 1,000 SST-2 sentences, and one short maximum length.

    Where overfitting starts, and which single change from the base run (``base_lr`` at
    ``max_length``) costs the most accuracy: week 1's "tweaks" in one table.
    """
    import tempfile

    from llmnotes import week1

    s = ctx.settings
    splits = sst2_splits(ctx.assets["data"].path)
    _, train = stratified_split(
        splits["train"], s["train_examples"] / len(splits["train"]), ctx.seed
    )
    short = f"lr {s['base_lr']:g}, max length {s['short_max_length']}"
    runs = [(f"lr {lr:g}", lr, s["max_length"]) for lr in s["lrs"]]
    runs.append((short, s["base_lr"], s["short_max_length"]))
    histories, best = {}, {}
    for name, lr, max_length in ctx.progress(runs, desc="runs"):
        config = FinetuneConfig(
            epochs=s["epochs"], lr=lr, max_length=max_length, seed=ctx.seed, progress=False
        )
        with tempfile.TemporaryDirectory() as tmp:
            metrics = finetune(
                ctx.assets["model"].path, train, splits["validation"], Path(tmp), config
            )
        histories[name] = metrics["history"]
        best[name] = metrics["validation_accuracy"]
    costs = tweak_costs(histories, f"lr {s['base_lr']:g}", short, s["epochs"])
    worst = max(costs, key=costs.get)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(ctx.assets["model"].path))
    lengths = [len(ids) for ids in tokenizer(train.texts)["input_ids"]]
    kept = sum(min(n, s["short_max_length"]) for n in lengths) / sum(lengths)
    values = {
        "train_examples": len(train),
        "histories": histories,
        "best_validation_accuracy": best,
        "tweak_costs_points": costs,
        "costliest_tweak": worst,
        "costliest_tweak_points": costs[worst],
        "week1_drop_points": 100 * (week1.IMDB_ACCURACY - week1.IMDB_ACCURACY_AFTER_TWEAKS),
        "short_tokens_kept": kept,
        "short_truncated_share": sum(n > s["short_max_length"] for n in lengths) / len(lengths),
        "mean_tokens": statistics.mean(lengths),
    }
    fig = history_figure(histories, f"{len(train):,} SST-2 sentences, {len(histories)} runs")
    alt = "Training and validation loss per epoch for three learning rates and a short max length"
    return Result(values, {"grid": FigureOutput(fig, alt)})


@experiment(
    "finetuning",
    assets={"data": ("gensim-test-data",), "model": ("minilm",)},
    settings={"folds": 5, "epochs": 5, "lr": 1e-4, "batch_size": 16, "max_length": 64},
)
def pang_lee_cv(ctx: Context) -> Result:
    """5-fold cross-validation on 200 sentences: the packaged-only fallback, with error bars."""
    import random
    import tempfile

    data = pang_lee_data(ctx.assets["data"].path)
    order = list(range(len(data)))
    random.Random(ctx.seed).shuffle(order)
    folds = ctx.settings["folds"]
    config = FinetuneConfig(
        epochs=ctx.settings["epochs"],
        lr=ctx.settings["lr"],
        seed=ctx.seed,
        batch_size=ctx.settings["batch_size"],
        max_length=ctx.settings["max_length"],
        progress=False,
    )
    accuracies = []
    for fold in ctx.progress(range(folds), desc="folds"):
        held = set(order[fold::folds])
        train = data.subset([i for i in order if i not in held])
        test = data.subset(sorted(held))
        with tempfile.TemporaryDirectory() as tmp:
            metrics = finetune(ctx.assets["model"].path, train, test, Path(tmp), config)
        accuracies.append(metrics["validation_accuracy"])
    return Result(
        {
            "fold_accuracies": accuracies,
            "mean_accuracy": statistics.mean(accuracies),
            "std_accuracy": statistics.stdev(accuracies),
            "examples": len(data),
        }
    )


def write_examples(path: Any, data: LabelledData) -> Any:
    """Write ``data`` as ``LABEL TEXT`` lines, as SST-2 is stored."""
    lines = [f"{label} {text}" for text, label in zip(data.texts, data.labels, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def peak_memory_bytes(pid: int) -> int:
    """The peak resident memory of a running process so far (``VmHWM``; 0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0
    found = re.search(r"^VmHWM:\s*(\d+) kB", status, re.M)
    return int(found.group(1)) * 1024 if found else 0


def run_finetune_command(arguments: list[str], processes: int = 1, env: Any = None) -> int:
    """Run ``llmnotes finetune ARGUMENTS`` in a child process; return its peak memory in bytes.

    The command runs with ``--quiet --offline``, under torchrun when ``processes`` > 1. The peak
    is the child's own high-water mark (``VmHWM`` in ``/proc``, read every 0.1 s until it ends;
    the kernel's ``ru_maxrss`` of a child would count this process's memory at the fork). On a
    system without ``/proc`` it is 0.

    Raises:
        RuntimeError: The command failed; the message ends with its last error lines.
    """
    import subprocess
    import sys
    import tempfile
    import time

    launcher = [sys.executable, "-m", "llmnotes"]
    if processes > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node",
                    str(processes), "-m", "llmnotes"]  # fmt: skip
    command = [*launcher, "finetune", *arguments, "--quiet", "--offline"]
    peak = 0
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        while child.poll() is None:
            peak = max(peak, peak_memory_bytes(child.pid))
            time.sleep(0.1)
        if child.returncode:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            raise RuntimeError(f"{' '.join(command)} failed: " + " / ".join(tail))
    return peak


#: Largest accuracy gap between one and two processes that counts as "the same".
DISTRIBUTED_TOLERANCE = 0.02


@experiment(
    "finetuning",
    assets=SST2,
    settings={"train_examples": 1000, "epochs": 1, "lr": 1e-4, "batch_size": 32, "max_length": 64},
)
def distributed_parity(ctx: Context) -> Result:
    """The same fine-tuning on one process and on two (torchrun, gloo): dev accuracy of each.

    Both runs see the same global batch size (two processes take half a batch each), so the
    difference comes only from how the data is shuffled and sharded, and from float arithmetic.
    """
    import json
    import os
    import tempfile

    splits = sst2_splits(ctx.assets["data"].path)
    fraction = ctx.settings["train_examples"] / len(splits["train"])
    _, train = stratified_split(splits["train"], fraction, ctx.seed)
    s, runs = ctx.settings, {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {name: write_examples(folder / name, data)
                 for name, data in (("train", train), ("dev", splits["validation"]))}  # fmt: skip
        for processes in (1, 2):
            out = folder / f"out{processes}"
            arguments = ["--model", str(ctx.assets["model"].path),
                         "--train", str(files["train"]), "--eval", str(files["dev"]),
                         "--epochs", str(s["epochs"]), "--lr", str(s["lr"]),
                         "--batch-size", str(s["batch_size"] // processes),
                         "--max-length", str(s["max_length"]), "--seed", str(ctx.seed),
                         "--output", str(out)]  # fmt: skip
            env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // processes))}
            run_finetune_command(arguments, processes, env)
            runs[processes] = json.loads((out / "metrics.json").read_text())
    gap = abs(runs[1]["validation_accuracy"] - runs[2]["validation_accuracy"])
    return Result(
        {
            "train_examples": len(train),
            "accuracy": {str(p): m["validation_accuracy"] for p, m in runs.items()},
            "world_size": {str(p): m["world_size"] for p, m in runs.items()},
            "samples_per_second": {str(p): m["train_samples_per_second"] for p, m in runs.items()},
            "gap": gap,
            "tolerance": DISTRIBUTED_TOLERANCE,
            "within_tolerance": gap <= DISTRIBUTED_TOLERANCE,
        }
    )


@experiment(
    "finetuning",
    assets=SST2,
    settings={
        "train_examples": 2000,
        "epochs": 2,
        "lr": 5e-5,
        "lora_lr": 1e-3,
        "ranks": [4, 16],
        "batch_size": 32,
        "max_length": 64,
    },
)
def lora_vs_full(ctx: Context) -> Result:
    """Full fine-tuning against LoRA at several ranks, same data and epochs, one run.

    Each run is ``llmnotes finetune`` in its own process (``--lora RANK`` for LoRA), so its peak
    resident memory is its own. Saved size: the classifier's weights for full fine-tuning, the
    adapter file (adapters and head) for LoRA, which is what a LoRA run needs to keep.
    """
    import json
    import tempfile

    s = ctx.settings
    splits = sst2_splits(ctx.assets["data"].path)
    fraction = s["train_examples"] / len(splits["train"])
    _, train = stratified_split(splits["train"], fraction, ctx.seed)
    runs: dict[str, dict[str, Any]] = {}
    variants = [("full", None), *((f"lora {rank}", rank) for rank in s["ranks"])]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {name: write_examples(folder / name, data)
                 for name, data in (("train", train), ("dev", splits["validation"]),
                                    ("test", splits["test"]))}  # fmt: skip
        for name, rank in ctx.progress(variants, desc="runs"):
            out = folder / name.replace(" ", "-")
            arguments = ["--model", str(ctx.assets["model"].path),
                         "--train", str(files["train"]), "--eval", str(files["dev"]),
                         "--test", str(files["test"]), "--epochs", str(s["epochs"]),
                         "--lr", str(s["lr"] if rank is None else s["lora_lr"]),
                         "--batch-size", str(s["batch_size"]),
                         "--max-length", str(s["max_length"]), "--seed", str(ctx.seed),
                         "--output", str(out)]  # fmt: skip
            if rank is not None:
                arguments += ["--lora", str(rank)]
            memory = run_finetune_command(arguments)
            metrics = json.loads((out / "metrics.json").read_text())
            saved = out / ("model.safetensors" if rank is None else ADAPTER_FILE)
            trainable = metrics["trainable_parameters"]
            runs[name] = {
                "rank": rank,
                "trainable_parameters": trainable,
                "test_accuracy": metrics["test_accuracy"],
                "validation_accuracy": metrics["validation_accuracy"],
                "samples_per_second": metrics["train_samples_per_second"],
                "peak_memory_mib": memory / 2**20,
                # What training keeps per trainable number: its gradient and AdamW's two moments.
                "training_state_mib": trainable * 3 * 4 / 2**20,
                "saved_mib": saved.stat().st_size / 2**20,
            }
    full = runs["full"]
    lora = {name: run for name, run in runs.items() if name != "full"}
    return Result(
        {
            "train_examples": len(train),
            "runs": runs,
            "trainable_share": {
                n: r["trainable_parameters"] / full["trainable_parameters"] for n, r in lora.items()
            },
            "accuracy_gap_points": {
                n: 100 * (full["test_accuracy"] - r["test_accuracy"]) for n, r in lora.items()
            },
            "saved_ratio": {n: full["saved_mib"] / r["saved_mib"] for n, r in lora.items()},
        }
    )
