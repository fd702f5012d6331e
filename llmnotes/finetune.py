"""Fine-tune a pre-trained encoder for text classification with ``transformers.Trainer``.

The output folder holds everything ``pipeline("text-classification", model=FOLDER)`` needs
(safetensors weights, config with label names, tokenizer) plus ``metrics.json`` and
``run_config.json``. The same function runs on one process or under ``torchrun`` /
``accelerate launch`` on several: Trainer (through Accelerate) shards the batches and averages
the gradients.

Examples:
    >>> FinetuneConfig(epochs=1).batch_size
    32
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llmnotes.classification_data import LabelledData
from llmnotes.errors import UserError


class ModelError(UserError, ValueError):
    """A model that cannot be fine-tuned as given; the message names the fix."""


@dataclass(frozen=True)
class FinetuneConfig:
    """Training settings (the defaults suit MiniLM on SST-2 on a laptop CPU)."""

    epochs: float = 3
    lr: float = 5e-5
    batch_size: int = 32
    max_length: int = 64
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    seed: int = 0
    early_stopping: int | None = None
    group_by_length: bool = False
    progress: bool = True


class EncodedTexts:
    """Tokenised examples for Trainer: input ids without padding (the collator pads per batch)."""

    def __init__(self, tokenizer: Any, data: LabelledData, max_length: int) -> None:
        self.encodings = tokenizer(data.texts, truncation=True, max_length=max_length)
        self.labels = data.labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = {key: values[index] for key, values in self.encodings.items()}
        item["labels"] = self.labels[index]
        return item


def has_accelerator() -> bool:
    """Whether a CUDA or Apple-silicon GPU is available to torch."""
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


def load_model_and_tokenizer(model: str | Path, label_names: list[str]) -> tuple[Any, Any]:
    """A sequence-classification model with a fresh head for ``label_names``, and its tokenizer.

    Raises:
        ModelError: The folder has no tokenizer, or the model cannot be loaded.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = Path(model)
    if path.is_dir() and not any((path / f).is_file() for f in ("tokenizer.json", "vocab.txt")):
        raise ModelError(f"{path} has no tokenizer (tokenizer.json or vocab.txt); save one there")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model))
        classifier = AutoModelForSequenceClassification.from_pretrained(
            str(model),
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={name: i for i, name in enumerate(label_names)},
            ignore_mismatched_sizes=True,
            use_safetensors=True,  # never unpickle weights
        )
    except (OSError, ValueError) as error:
        raise ModelError(
            f"cannot load {model} as a classifier: {str(error).splitlines()[0]}"
        ) from None
    return classifier, tokenizer


def classification_metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-averaged F1 of ``argmax(logits)`` against ``labels``."""
    from sklearn.metrics import accuracy_score, f1_score

    predictions = np.asarray(logits).argmax(-1)
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "f1": float(f1_score(labels, predictions, average="macro")),
    }


def finetune(
    model: str | Path,
    train: LabelledData,
    validation: LabelledData,
    output: Path,
    config: FinetuneConfig,
    test: LabelledData | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Fine-tune ``model`` on ``train``, keep the best epoch on ``validation``, save to ``output``.

    Args:
        model: A local model folder or a hub id.
        train: Training examples.
        validation: Examples evaluated after every epoch; the best epoch is kept.
        output: Where the classifier, its tokenizer, metrics and run config are written
            (checkpoints go to ``output/checkpoints``).
        config: Training settings.
        test: Examples evaluated once at the end with the kept model.
        resume: Continue from the last checkpoint in ``output/checkpoints``.

    Returns:
        Final metrics (validation and test accuracy, F1 and loss, samples per second, wall time,
        world size) and the per-epoch ``history`` of training and validation loss.
    """
    from transformers import (
        DataCollatorWithPadding,
        EarlyStoppingCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(config.seed)
    classifier, tokenizer = load_model_and_tokenizer(model, train.label_names)
    datasets = {
        name: EncodedTexts(tokenizer, data, config.max_length)
        for name, data in (("train", train), ("validation", validation), ("test", test))
        if data is not None
    }
    steps_per_epoch = -(-len(train) // config.batch_size)
    arguments = TrainingArguments(
        output_dir=str(output / "checkpoints"),
        num_train_epochs=config.epochs,
        learning_rate=config.lr,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=2 * config.batch_size,
        weight_decay=config.weight_decay,
        warmup_steps=int(config.warmup_fraction * steps_per_epoch * config.epochs),
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="accuracy",
        save_total_limit=2,
        save_only_model=False,
        seed=config.seed,
        data_seed=config.seed,
        report_to="none",
        disable_tqdm=not config.progress,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        dataloader_num_workers=0,
        # Without an accelerator, say so: only then does Accelerate run several processes on
        # the CPU (MULTI_CPU over gloo) instead of treating each as a lone run.
        use_cpu=not has_accelerator(),
    )
    callbacks = [EarlyStoppingCallback(config.early_stopping)] if config.early_stopping else []
    trainer = Trainer(
        model=classifier,
        args=arguments,
        train_dataset=datasets["train"],
        eval_dataset=datasets["validation"],
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=lambda pred: classification_metrics(pred.predictions, pred.label_ids),
        callbacks=callbacks,
    )
    start = time.perf_counter()
    resume_from = resume and any((output / "checkpoints").glob("checkpoint-*"))
    trained = trainer.train(resume_from_checkpoint=True if resume_from else None)
    wall = time.perf_counter() - start
    metrics: dict[str, Any] = {
        "train_samples_per_second": float(trained.metrics["train_samples_per_second"]),
        "train_seconds": wall,
        "world_size": int(arguments.world_size),
    }
    for name in ("validation", "test"):
        if name in datasets:
            result = trainer.evaluate(datasets[name], metric_key_prefix=name)
            metrics |= {
                f"{name}_{k}": float(result[f"{name}_{k}"]) for k in ("accuracy", "f1", "loss")
            }
    metrics["history"] = epoch_history(trainer.state.log_history)
    if trainer.is_world_process_zero():
        save_classifier(trainer, tokenizer, output, metrics, config, model, train)
    return metrics


def epoch_history(log_history: list[dict[str, Any]]) -> list[dict[str, float]]:
    """One row per epoch: training loss, validation loss and accuracy."""
    rows: dict[float, dict[str, float]] = {}
    for entry in log_history:
        epoch = round(float(entry.get("epoch", 0)), 4)
        row = rows.setdefault(epoch, {"epoch": epoch})
        if "loss" in entry:
            row["train_loss"] = float(entry["loss"])
        if "eval_loss" in entry:
            row["validation_loss"] = float(entry["eval_loss"])
            row["validation_accuracy"] = float(entry.get("eval_accuracy", float("nan")))
    return [row for _, row in sorted(rows.items()) if len(row) > 1]


def save_classifier(
    trainer: Any,
    tokenizer: Any,
    output: Path,
    metrics: dict[str, Any],
    config: FinetuneConfig,
    model: str | Path,
    train: LabelledData,
) -> None:
    """Write the kept model, its tokenizer, ``metrics.json`` and ``run_config.json``.

    ``Trainer.save_model`` also writes ``training_args.bin``, a pickle; it is removed, so the
    folder holds only safetensors weights and JSON and can be shared and loaded safely.
    """
    trainer.save_model(str(output))
    (output / "training_args.bin").unlink(missing_ok=True)
    tokenizer.save_pretrained(str(output))
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    run = {
        "model": str(model),
        "label_names": train.label_names,
        "train_examples": len(train),
        "config": asdict(config),
        "rank": int(os.environ.get("RANK", 0)),
    }
    (output / "run_config.json").write_text(json.dumps(run, indent=2) + "\n")
