"""The experiments of the fine-tuning page.

MiniLM on SST-2 against baselines, a learning-rate × epochs grid, 5-fold cross-validation on
gensim's 200 sentences, and Trainer throughput.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from llmnotes.attention import mean_pool
from llmnotes.classification_data import LabelledData, pang_lee_data, sst2_splits, stratified_split
from llmnotes.figures import PALETTE, new_figure
from llmnotes.finetune import FinetuneConfig, finetune, has_accelerator
from llmnotes.hardware import cpu_info, peak_flops, training_flops_per_sample
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, SpeedRow, experiment

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
    """MiniLM sentence embeddings: the mean of the last hidden states over real tokens."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    model = AutoModel.from_pretrained(str(model_path), use_safetensors=True).eval()
    rows = []
    with torch.no_grad():
        for start in range(0, len(texts), batch):
            encoded = tokenizer(
                texts[start : start + batch],
                padding=True,
                truncation=True,
                max_length=64,
                return_tensors="pt",
            )
            hidden = model(**encoded).last_hidden_state
            rows.append(mean_pool(hidden, encoded["attention_mask"]).numpy())
    return np.concatenate(rows)


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


@experiment(
    "finetuning",
    assets=SST2,
    settings={"train_examples": 1000, "lrs": [1e-5, 5e-5, 3e-4], "epochs": 4, "max_length": 64},
)
def lr_epochs_grid(ctx: Context) -> Result:
    """Learning rate × epochs on 1,000 SST-2 sentences: where overfitting starts."""
    import tempfile
    from pathlib import Path

    splits = sst2_splits(ctx.assets["data"].path)
    _, train = stratified_split(
        splits["train"], ctx.settings["train_examples"] / len(splits["train"]), ctx.seed
    )
    histories, best = {}, {}
    for lr in ctx.progress(ctx.settings["lrs"], desc="learning rates"):
        config = FinetuneConfig(
            epochs=ctx.settings["epochs"],
            lr=lr,
            max_length=ctx.settings["max_length"],
            seed=ctx.seed,
            progress=False,
        )
        with tempfile.TemporaryDirectory() as tmp:
            metrics = finetune(
                ctx.assets["model"].path, train, splits["validation"], Path(tmp), config
            )
        histories[f"lr {lr:g}"] = metrics["history"]
        best[f"lr {lr:g}"] = metrics["validation_accuracy"]
    values = {
        "train_examples": len(train),
        "histories": histories,
        "best_validation_accuracy": best,
    }
    fig = history_figure(
        histories, f"{len(train):,} SST-2 sentences, {len(histories)} learning rates"
    )
    alt = "Training and validation loss per epoch for three learning rates"
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
    from pathlib import Path

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


def plain_loop_samples_per_second(
    model_path: Any, data: LabelledData, config: FinetuneConfig
) -> float:
    """One epoch of a hand-written PyTorch loop (AdamW, dynamic padding); samples per second."""
    import torch
    from transformers import DataCollatorWithPadding

    from llmnotes.finetune import EncodedTexts, load_model_and_tokenizer

    torch.manual_seed(config.seed)
    model, tokenizer = load_model_and_tokenizer(model_path, data.label_names)
    loader = torch.utils.data.DataLoader(
        EncodedTexts(tokenizer, data, config.max_length),
        batch_size=config.batch_size,
        shuffle=True,
        collate_fn=DataCollatorWithPadding(tokenizer),
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    model.train()
    start = time.perf_counter()
    for batch in loader:
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return len(data) / (time.perf_counter() - start)


def trainer_samples_per_second(
    model_path: Any, data: LabelledData, config: FinetuneConfig, pad_to_max: bool = False
) -> float:
    """One epoch of ``Trainer.train`` with nothing else (no evaluation, saving or logging)."""
    import tempfile

    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from llmnotes.finetune import EncodedTexts, load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(model_path, data.label_names)
    if pad_to_max:
        collator = DataCollatorWithPadding(
            tokenizer, padding="max_length", max_length=config.max_length
        )
    else:
        collator = DataCollatorWithPadding(tokenizer)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            num_train_epochs=1,
            per_device_train_batch_size=config.batch_size,
            learning_rate=config.lr,
            weight_decay=config.weight_decay,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            report_to="none",
            disable_tqdm=True,
            seed=config.seed,
            use_cpu=not has_accelerator(),
            train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        )
        trainer = Trainer(
            model=model,
            args=args,
            data_collator=collator,
            train_dataset=EncodedTexts(tokenizer, data, config.max_length),
        )
        start = time.perf_counter()
        trainer.train()
        return len(data) / (time.perf_counter() - start)


#: Trainer should run at this fraction of the plain loop's samples per second, or better.
TRAINER_GOAL = 0.9


@experiment(
    "finetuning",
    assets=SST2,
    settings={"examples": 640, "batch_size": 32, "max_length": 64},
    speed=(
        SpeedRow(
            "Trainer / plain loop (samples/s; goal ≥ 0.90×)",
            "samples_per_second.trainer",
            "samples_per_second.plain_loop",
            fmt=".1f",
        ),
        SpeedRow(
            "Trainer arithmetic / CPU peak (GFLOP/s)",
            "achieved_flops.trainer",
            "peak_flops",
            scale=1e-9,
            fmt=".1f",
        ),
    ),
)
def trainer_throughput(ctx: Context) -> Result:
    """Samples/s of Trainer vs. a plain loop, and of padding to the longest vs. to max_length.

    Also the arithmetic rate this reaches, estimated as 6 operations per non-embedding parameter
    per token (:func:`~llmnotes.hardware.training_flops_per_sample`), against the CPU's peak
    (:func:`~llmnotes.hardware.peak_flops`).
    """
    splits = sst2_splits(ctx.assets["data"].path)
    _, data = stratified_split(
        splits["train"], ctx.settings["examples"] / len(splits["train"]), ctx.seed
    )
    config = FinetuneConfig(
        batch_size=ctx.settings["batch_size"],
        max_length=ctx.settings["max_length"],
        seed=ctx.seed,
        progress=False,
    )
    model = ctx.assets["model"].path
    runs = {
        "plain_loop": plain_loop_samples_per_second(model, data, config),
        "trainer": trainer_samples_per_second(model, data, config),
        "trainer_pad_to_max_length": trainer_samples_per_second(
            model, data, config, pad_to_max=True
        ),
        "trainer_group_by_length": trainer_samples_per_second(
            model, data, FinetuneConfig(**{**config.__dict__, "group_by_length": True})
        ),
    }
    from llmnotes.finetune import load_model_and_tokenizer

    classifier, tokenizer = load_model_and_tokenizer(model, data.label_names)
    parameters = sum(p.numel() for p in classifier.parameters())
    # Embedding lookups do no multiply-adds, so the 6-per-parameter rule counts the rest only.
    weights = sum(
        p.numel() for name, p in classifier.named_parameters() if ".embeddings." not in name
    )
    encoded = tokenizer(data.texts, truncation=True, max_length=config.max_length)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    # Useful work per sample: the real tokens. Padding to max_length does more arithmetic for
    # the same samples, so its rate is counted at max_length tokens.
    tokens = {name: statistics.mean(lengths) for name in runs}
    tokens["trainer_pad_to_max_length"] = config.max_length
    achieved = {
        name: rate * training_flops_per_sample(weights, tokens[name]) for name, rate in runs.items()
    }
    cpu = cpu_info()
    peak = peak_flops(cpu)
    return Result(
        {
            "examples": len(data),
            "samples_per_second": runs,
            "trainer_over_plain": runs["trainer"] / runs["plain_loop"],
            "trainer_goal": TRAINER_GOAL,
            "trainer_meets_goal": runs["trainer"] / runs["plain_loop"] >= TRAINER_GOAL,
            "dynamic_over_max_length": runs["trainer"] / runs["trainer_pad_to_max_length"],
            "parameters": parameters,
            "non_embedding_parameters": weights,
            "mean_tokens": statistics.mean(lengths),
            "achieved_flops": achieved,
            "cpu": cpu,
            "peak_flops": peak,
            "trainer_share_of_peak": achieved["trainer"] / peak if peak else None,
        }
    )


#: Largest accuracy gap between one and two processes that counts as "the same".
DISTRIBUTED_TOLERANCE = 0.02


@experiment(
    "finetuning",
    assets=SST2,
    settings={"train_examples": 1000, "epochs": 1, "batch_size": 32, "max_length": 64},
)
def distributed_parity(ctx: Context) -> Result:
    """The same fine-tuning on one process and on two (torchrun, gloo): dev accuracy of each.

    Both runs see the same global batch size (two processes take half a batch each), so the
    difference comes only from how the data is shuffled and sharded, and from float arithmetic.
    """
    import json
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    splits = sst2_splits(ctx.assets["data"].path)
    fraction = ctx.settings["train_examples"] / len(splits["train"])
    _, train = stratified_split(splits["train"], fraction, ctx.seed)
    s, runs = ctx.settings, {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, data in (("train", train), ("dev", splits["validation"])):
            lines = [f"{label} {text}" for text, label in zip(data.texts, data.labels, strict=True)]
            (folder / name).write_text("\n".join(lines) + "\n")
        for processes in (1, 2):
            launcher = [sys.executable, "-m", "llmnotes"]
            if processes > 1:
                launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node",
                            str(processes), "-m", "llmnotes"]  # fmt: skip
            out = folder / f"out{processes}"
            command = [*launcher, "finetune", "--model", str(ctx.assets["model"].path),
                       "--train", str(folder / "train"), "--eval", str(folder / "dev"),
                       "--epochs", str(s["epochs"]),
                       "--batch-size", str(s["batch_size"] // processes),
                       "--max-length", str(s["max_length"]), "--seed", str(ctx.seed),
                       "--output", str(out), "--quiet", "--offline"]  # fmt: skip
            env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // processes))}
            subprocess.run(command, check=True, capture_output=True, env=env)
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
