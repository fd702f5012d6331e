"""Measure a saved text classifier on labelled data: accuracy, F1, loss, confusion matrix.

The data's labels are matched to the model's by name (``config.json``'s ``id2label``, case
aside), so a classifier trained on ``negative``/``positive`` can be measured on a file that
says ``Negative``/``Positive``; labels the model does not know are refused, naming both sets.

Examples:
    >>> label_ids(["neg", "pos"], {0: "NEG", 1: "POS"})
    [0, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llmnotes.classification_data import LabelledData
from llmnotes.errors import UserError


class EvaluationError(UserError, ValueError):
    """Data that cannot be measured with the model (labels it does not know)."""


@dataclass(frozen=True)
class Evaluation:
    """A classifier's scores on one data set.

    Attributes:
        accuracy: Share of examples whose highest-scoring label is right.
        f1: F1 averaged over labels (macro: each counts the same), over the labels present in
            the data or the predictions, as sklearn and ``llmnotes finetune`` compute it.
        loss: Mean cross-entropy of the true label, in nats.
        labels: The model's label names, in id order.
        confusion: ``confusion[i][j]``: examples of label ``i`` predicted as label ``j``.
        per_class: For each label: precision, recall, F1 and support (examples of it).
        examples: How many examples were measured.
    """

    accuracy: float
    f1: float
    loss: float
    labels: list[str]
    confusion: list[list[int]]
    per_class: dict[str, dict[str, float]]
    examples: int

    def as_dict(self) -> dict[str, Any]:
        """Everything, as plain JSON-ready values."""
        return asdict(self)


def batches_shortest_first(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices in batches of ``batch_size``, shortest first, so each batch pads to similar lengths.

    >>> batches_shortest_first([5, 1, 3, 2], 2)
    [[1, 3], [2, 0]]
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def label_ids(names: Iterable[str], id2label: Mapping[int, str]) -> list[int]:
    """The model's id for each label name, matched without regard to case.

    Raises:
        EvaluationError: A name is not one of the model's labels; both sets are named.
    """
    by_name = {str(label).casefold(): int(i) for i, label in id2label.items()}
    names = list(names)
    unknown = [name for name in names if name.casefold() not in by_name]
    if unknown:
        raise EvaluationError(
            f"the data's labels {names} are not all the model's: it knows "
            f"{[id2label[i] for i in sorted(id2label)]} ({', '.join(unknown)} unknown); "
            "give data with the model's labels"
        )
    return [by_name[name.casefold()] for name in names]


def scores(
    logits: np.ndarray, labels: np.ndarray, names: list[str]
) -> tuple[float, float, list[list[int]], dict[str, dict[str, float]]]:
    """Accuracy, macro-F1, the confusion matrix and per-label figures, by sklearn's definitions.

    Accuracy and macro-F1 are :func:`llmnotes.finetune.classification_metrics`, the figures
    fine-tuning reports, so the two commands' tables agree.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from llmnotes.finetune import classification_metrics

    predictions = logits.argmax(-1)
    every = list(range(len(names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=every, zero_division=0
    )
    per_class = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(names)
    }
    confusion = confusion_matrix(labels, predictions, labels=every).tolist()
    overall = classification_metrics(logits, labels)
    return overall["accuracy"], overall["f1"], confusion, per_class


def evaluate_classifier(
    model: str | Path,
    data: LabelledData,
    batch_size: int = 64,
    max_length: int = 512,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    precision: str = "auto",
) -> Evaluation:
    """Measure the classifier in ``model`` (a folder or hub id) on ``data``.

    The texts are scored shortest first, so each batch is padded to a length close to its own,
    and under bf16 autocast where the hardware has it (as ``llmnotes finetune`` evaluates); the
    scores do not depend on the order.

    Args:
        model: A folder written by ``llmnotes finetune`` (or any sequence classifier).
        data: Labelled examples; their label names must be the model's.
        batch_size: Examples per forward pass.
        max_length: Longest input in tokens; longer texts are truncated.
        progress: Wraps the batches (a progress bar); ``None`` shows nothing.
        precision: ``auto``, ``bf16`` or ``fp32`` (:func:`~llmnotes.precision.training_precision`).

    Raises:
        EvaluationError: The data's labels are not the model's.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from llmnotes.precision import autocast, training_precision

    tokenizer = AutoTokenizer.from_pretrained(str(model))
    classifier = AutoModelForSequenceClassification.from_pretrained(
        str(model), use_safetensors=True
    ).eval()
    id2label = {int(i): str(name) for i, name in classifier.config.id2label.items()}
    mapping = label_ids(data.label_names, id2label)
    labels = np.array([mapping[y] for y in data.labels])
    encoded = tokenizer(data.texts, truncation=True, max_length=max_length)
    batches = batches_shortest_first([len(ids) for ids in encoded["input_ids"]], batch_size)
    logits = torch.zeros(len(data), len(id2label))
    with torch.no_grad(), autocast(training_precision(precision)[0]):
        for chosen in progress(batches) if progress else batches:
            features = [{k: v[i] for k, v in encoded.items()} for i in chosen]
            batch = tokenizer.pad(features, return_tensors="pt")
            logits[chosen] = classifier(**batch).logits.float()
    loss = float(torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)))
    names = [id2label[i] for i in sorted(id2label)]
    accuracy, f1, confusion, per_class = scores(logits.numpy(), labels, names)
    return Evaluation(accuracy, f1, loss, names, confusion, per_class, len(data))
