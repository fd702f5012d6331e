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

import contextlib
import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llmnotes.classification_data import LabelledData
from llmnotes.errors import UserError


class ModelError(UserError, ValueError):
    """A model that cannot be fine-tuned as given; the message names the fix."""


class ConfigError(UserError, ValueError):
    """A training setting out of its range; the message names the range."""


class CheckpointError(UserError, ValueError):
    """An output folder or checkpoint that does not belong to this run; the message says why."""


class TrainingDiverged(UserError, ArithmeticError):
    """The loss became NaN or infinite: nothing is saved; the message suggests a lower rate."""


#: The precisions training accepts: ``auto`` is bf16 where the hardware has it, else fp32.
PRECISIONS = ("auto", "bf16", "fp32")
#: The largest batch accepted (a typo guard: 1e6 examples a step would not fit in memory).
MAX_BATCH_SIZE = 4096


@dataclass(frozen=True)
class FinetuneConfig:
    """Training settings (the defaults suit MiniLM on SST-2 on a laptop CPU).

    ``group_by_length`` batches sentences of similar length together (less padding);
    ``precision`` is ``"auto"`` (bfloat16 autocast where the hardware has it, else float32),
    ``"bf16"`` or ``"fp32"`` (:func:`~llmnotes.precision.training_precision`);
    ``fused_adamw`` uses PyTorch's single-kernel AdamW; ``compile`` runs the model through
    ``torch.compile``. The performance page measures each. ``lora_rank`` trains LoRA adapters
    of that rank on the attention's queries and values (and the new head) instead of every
    weight (:mod:`llmnotes.lora`); ``lora_alpha`` scales them (default: the rank).
    """

    epochs: float = 3
    lr: float = 5e-5
    batch_size: int = 32
    max_length: int = 64
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    seed: int = 0
    early_stopping: int | None = None
    group_by_length: bool = True
    precision: str = "auto"
    fused_adamw: bool = True
    compile: bool = False
    lora_rank: int | None = None
    lora_alpha: float | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        """Check every setting's range, so that a typo fails before any model is loaded.

        Raises:
            ConfigError: A setting is out of range (NaN and infinity included).
        """
        checks = [
            ("epochs", self.epochs, 0 < self.epochs <= 1000, "a number above 0, at most 1000"),
            ("lr", self.lr, 0 < self.lr <= 1, "a learning rate above 0, at most 1 (try 5e-5)"),
            ("batch size", self.batch_size, 1 <= self.batch_size <= MAX_BATCH_SIZE,
             f"a whole number from 1 to {MAX_BATCH_SIZE}"),
            ("max length", self.max_length, self.max_length >= 2, "at least 2 tokens"),
            ("weight decay", self.weight_decay, 0 <= self.weight_decay < 1, "from 0 to below 1"),
            ("warm-up fraction", self.warmup_fraction, 0 <= self.warmup_fraction <= 1,
             "from 0 to 1"),
            ("seed", self.seed, 0 <= self.seed < 2**32, "a whole number from 0 to 2**32 - 1"),
        ]  # fmt: skip
        if self.lora_rank is not None:
            checks.append(("LoRA rank", self.lora_rank, self.lora_rank >= 1, "at least 1"))
        if self.lora_alpha is not None:
            checks.append(("LoRA alpha", self.lora_alpha, 0 < self.lora_alpha <= 1e4,
                           "a number above 0 (default: the rank)"))  # fmt: skip
        if self.early_stopping is not None:
            checks.append(("early stopping", self.early_stopping, self.early_stopping >= 1,
                           "at least 1 epoch"))  # fmt: skip
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"precision {self.precision!r} is not known: give one of {', '.join(PRECISIONS)}"
            )
        for name, value, ok, wanted in checks:
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                raise ConfigError(f"{name} {value!r} is out of range: give {wanted}")

    def fingerprint_settings(self) -> dict[str, Any]:
        """The settings that determine the trained weights (progress display does not)."""
        return {k: v for k, v in asdict(self).items() if k != "progress"}


class EncodedTexts:
    """Tokenised examples for Trainer: input ids without padding (the collator pads per batch).

    ``by_length`` orders the examples from shortest to longest, for evaluation: each batch is
    then padded to a length close to its own, and accuracy, F1 and mean loss do not depend on
    the order.
    """

    def __init__(
        self, tokenizer: Any, data: LabelledData, max_length: int, by_length: bool = False
    ) -> None:
        encodings = tokenizer(data.texts, truncation=True, max_length=max_length)
        order = list(range(len(data)))
        if by_length:
            order.sort(key=lambda i: len(encodings["input_ids"][i]))
        self.encodings = {key: [values[i] for i in order] for key, values in encodings.items()}
        self.labels = [data.labels[i] for i in order]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = {key: values[index] for key, values in self.encodings.items()}
        item["labels"] = self.labels[index]
        return item


def padding_share(lengths: list[int], batch_size: int, grouped: bool, seed: int = 0) -> float:
    """The share of the tokens in padded batches that are padding, for one epoch's batches.

    Each batch is padded to its longest sequence. Shuffled batches mix short and long
    sentences; length-grouped ones (Trainer's ``LengthGroupedSampler``: shuffled, then sorted
    within blocks of 50 batches, or of a quarter of the data when that is fewer) hold similar
    lengths, so little is padded.

    >>> lengths = [2, 30] * 64
    >>> padding_share(lengths, 8, grouped=True) < padding_share(lengths, 8, grouped=False)
    True
    """
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    generator = torch.Generator().manual_seed(seed)
    if grouped:
        order = list(LengthGroupedSampler(batch_size, lengths=lengths, generator=generator))
    else:
        order = torch.randperm(len(lengths), generator=generator).tolist()
    padded = real = 0
    for start in range(0, len(order), batch_size):
        batch = [lengths[i] for i in order[start : start + batch_size]]
        padded += max(batch) * len(batch)
        real += sum(batch)
    return 1 - real / padded


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
    from transformers.utils import logging

    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # the load report lists the new head as MISSING: said below
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model))
        classifier, info = AutoModelForSequenceClassification.from_pretrained(
            str(model),
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={name: i for i, name in enumerate(label_names)},
            ignore_mismatched_sizes=True,
            use_safetensors=True,  # never unpickle weights
            output_loading_info=True,
        )
    except (OSError, ValueError) as error:
        raise ModelError(
            f"cannot load {model} as a classifier: {str(error).splitlines()[0]}"
        ) from None
    finally:
        logging.set_verbosity(verbosity)
    fresh = [k for k in (*info["missing_keys"], *info["mismatched_keys"]) if "classifier" in str(k)]
    if fresh and int(os.environ.get("RANK", 0)) == 0:
        print(
            f"note: {model} has no head for these labels; a new classification head is trained "
            f"for {', '.join(label_names)}",
            file=sys.stderr,
        )
    return classifier, tokenizer


def classification_metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-averaged F1 of ``argmax(logits)`` against ``labels``."""
    from sklearn.metrics import accuracy_score, f1_score

    predictions = np.asarray(logits).argmax(-1)
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "f1": float(f1_score(labels, predictions, average="macro")),
    }


#: The file, in the checkpoints folder and in the saved classifier, that names the run (written
#: before the first step, so a kill at any moment leaves checkpoints that can be told apart).
RUN_FILE = "llmnotes_run.json"
#: The run's log in the output folder: every Trainer log entry and transformers' messages.
LOG_FILE = "train.log"
#: What a checkpoint must hold to be resumed from (a kill during its save leaves some out).
CHECKPOINT_FILES = ("trainer_state.json", "model.safetensors", "optimizer.pt", "scheduler.pt")


def run_fingerprint(
    model: str | Path,
    train: LabelledData,
    validation: LabelledData,
    config: FinetuneConfig,
    precision: str = "fp32",
) -> str:
    """A hash of what a training run depends on: the model, both splits and the settings.

    Checkpoints carry it, so ``--resume`` never continues another run's weights.
    """
    content = {
        "model": str(model),
        "data": [(d.texts, d.labels, d.label_names) for d in (train, validation)],
        "config": config.fingerprint_settings(),
        "precision": precision,  # what "auto" became here: it changes the weights
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_run(folder: Path) -> str | None:
    """The run fingerprint recorded in ``folder`` (a checkpoint or a classifier), if readable."""
    try:
        return str(json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def complete_checkpoint(folder: Path) -> bool:
    """Whether a checkpoint holds every file resuming needs and a readable trainer state."""
    if not all((folder / name).is_file() for name in CHECKPOINT_FILES):
        return False
    try:
        json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def checkpoint_step(folder: str | Path | None) -> int | None:
    """The step a ``checkpoint-N`` folder was saved at (``None`` for another name).

    >>> checkpoint_step("out/checkpoints/checkpoint-126"), checkpoint_step("out/tmp")
    (126, None)
    """
    step = Path(folder).name.rpartition("-")[2] if folder else ""
    return int(step) if step.isdigit() else None


def checkpoint_to_resume(output: Path, fingerprint: str) -> tuple[Path | None, list[str]]:
    """The newest complete checkpoint of this run in ``output/checkpoints``, and notes on others.

    Returns:
        The checkpoint (``None`` when there is none yet) and one note per incomplete checkpoint
        skipped (a kill during its save).

    Raises:
        CheckpointError: The checkpoints there belong to another run.
    """
    folder = output / "checkpoints"
    found = sorted(
        folder.glob("checkpoint-*"), key=lambda p: checkpoint_step(p) or -1, reverse=True
    )
    if found and read_run(folder) != fingerprint:
        raise CheckpointError(
            f"--resume: the checkpoints in {folder} belong to another run (different model, data "
            "or settings); give a new --output, or drop --resume and pass --overwrite to start "
            "again there"
        )
    notes = []
    for checkpoint in found:
        if complete_checkpoint(checkpoint):
            return checkpoint, notes
        notes.append(f"skipped {checkpoint.name}: incomplete (interrupted while it was saved)")
    return None, notes


def check_output_folder(output: Path, fingerprint: str, resume: bool, overwrite: bool) -> None:
    """Refuse to write over a folder that holds something other than this run's classifier.

    Raises:
        CheckpointError: ``output`` is a file; holds files that are not a classifier; holds
            another run's classifier or checkpoints (without ``overwrite``); or holds this
            run's finished classifier when ``resume`` asks to continue it.
    """
    if output.exists() and not output.is_dir():
        raise CheckpointError(f"--output {output} is a file; give a folder (new or empty)")
    if not output.is_dir() or not any(output.iterdir()):
        return
    ours = any((output / name).exists() for name in ("run_config.json", "checkpoints", LOG_FILE))
    if not ours:
        raise CheckpointError(
            f"--output {output} holds other files; give a new or empty folder (nothing there "
            "was changed)"
        )
    finished = read_run(output)
    if resume:
        if finished == fingerprint and not (output / "checkpoints").is_dir():
            raise CheckpointError(
                f"--resume: {output} already holds this run's finished classifier; nothing to "
                "resume (drop --resume and pass --overwrite to train it again)"
            )
        if finished is not None and finished != fingerprint:
            raise CheckpointError(
                f"--resume: {output} holds a classifier from another run (different model, data "
                "or settings); give a new --output"
            )
        return
    if not overwrite:
        raise CheckpointError(
            f"--output {output} already holds a classifier or checkpoints; pass --overwrite to "
            "replace them, --resume to continue that run, or give a new folder"
        )
    shutil.rmtree(output / "checkpoints", ignore_errors=True)


class _RunGuard:
    """A Trainer callback that stops training when the logged loss is NaN or infinite."""

    def __new__(cls) -> Any:  # a TrainerCallback, made when transformers is loaded
        from transformers import TrainerCallback

        class RunGuard(TrainerCallback):
            def __init__(self) -> None:
                self.diverged_at: int | None = None

            def on_log(
                self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any
            ) -> None:
                loss = (logs or {}).get("loss")
                if loss is not None and not math.isfinite(loss):
                    self.diverged_at = state.global_step
                    control.should_training_stop = True
                    control.should_save = False

        return RunGuard()


class _EpochClock:
    """A Trainer callback that adds up the epochs' wall time, evaluations and saves left out."""

    def __new__(cls) -> Any:
        from transformers import TrainerCallback

        class EpochClock(TrainerCallback):
            def __init__(self) -> None:
                self.seconds = 0.0
                self.epochs = 0  # timed here: a resumed run's earlier epochs are not
                self.started: float | None = None

            def on_epoch_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                self.started = time.perf_counter()

            def on_epoch_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                if self.started is not None:
                    self.seconds += time.perf_counter() - self.started
                    self.epochs += 1
                    self.started = None

        return EpochClock()


@contextlib.contextmanager
def library_log(path: Path) -> Iterator[None]:
    """Send transformers' messages to ``path`` instead of the console, without its bars."""
    import logging as std_logging

    from transformers.utils import logging

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = std_logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(std_logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    bars = logging.is_progress_bar_enabled()
    logging.disable_default_handler()
    logging.disable_progress_bar()  # "Loading weights", "Writing model shards" at every save
    logging.add_handler(handler)
    try:
        yield
    finally:
        logging.remove_handler(handler)
        handler.close()
        logging.enable_default_handler()
        if bars:
            logging.enable_progress_bar()


class _Console:
    """Trainer callbacks: one line per epoch on the console, every log entry in ``train.log``."""

    def __new__(cls, log: Path, epochs: float, progress: bool) -> Any:
        from transformers import TrainerCallback

        class Console(TrainerCallback):
            def __init__(self) -> None:
                self.train_loss: float | None = None
                self.bar: Any = None

            def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                if progress and state.is_world_process_zero:
                    from tqdm.auto import tqdm

                    self.bar = tqdm(
                        total=state.max_steps, initial=state.global_step, desc="training",
                        unit="step", leave=False, file=sys.stderr,
                    )  # fmt: skip

            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                if self.bar is not None:
                    self.bar.update(state.global_step - self.bar.n)

            def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                if self.bar is not None:
                    self.bar.close()

            def on_log(
                self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any
            ) -> None:
                logs = dict(logs or {})
                if "loss" in logs:
                    self.train_loss = float(logs["loss"])
                if state.is_world_process_zero:
                    log.parent.mkdir(parents=True, exist_ok=True)
                    with log.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps({"step": state.global_step, **logs}) + "\n")

            def on_evaluate(
                self, args: Any, state: Any, control: Any, metrics: Any = None, **kw: Any
            ) -> None:
                m = metrics or {}
                if not progress or not state.is_world_process_zero or "eval_accuracy" not in m:
                    return
                train = f"{self.train_loss:.4f}" if self.train_loss is not None else "-"
                line = (
                    f"epoch {m.get('epoch', state.epoch):g}/{epochs:g}: train loss {train}, "
                    f"validation loss {m['eval_loss']:.4f}, accuracy {m['eval_accuracy']:.4f}, "
                    f"F1 {m['eval_f1']:.4f}"
                )
                (self.bar.write if self.bar is not None else print)(line, file=sys.stderr)

        return Console()


def finetune(
    model: str | Path,
    train: LabelledData,
    validation: LabelledData,
    output: Path,
    config: FinetuneConfig,
    test: LabelledData | None = None,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: list[Any] | None = None,
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
        resume: Continue from the newest complete checkpoint of this run in
            ``output/checkpoints`` (see :func:`checkpoint_to_resume`).
        overwrite: Replace a classifier or checkpoints already in ``output``.
        callbacks: More ``transformers.TrainerCallback`` objects, called before the site's own.

    Returns:
        Final metrics (validation and test accuracy, F1 and loss, samples per second, wall time,
        world size, trainable parameters) and the per-epoch ``history`` of training and
        validation loss. The checkpoints are deleted once the classifier is saved.

    Raises:
        CheckpointError: ``output`` holds something else (see :func:`check_output_folder`).
        TrainingDiverged: The training loss became NaN or infinite; nothing is saved.
    """
    from llmnotes.precision import training_precision

    precision, note = training_precision(config.precision)
    fingerprint = run_fingerprint(model, train, validation, config, precision)
    check_output_folder(output, fingerprint, resume, overwrite)
    if note and int(os.environ.get("RANK", 0)) == 0:
        print(f"note: {note}", file=sys.stderr)
    with library_log(output / LOG_FILE):
        return _finetune(model, train, validation, output, config, test, resume, fingerprint,
                         precision, callbacks)  # fmt: skip


def _finetune(
    model: str | Path,
    train: LabelledData,
    validation: LabelledData,
    output: Path,
    config: FinetuneConfig,
    test: LabelledData | None,
    resume: bool,
    fingerprint: str,
    precision: str,
    callbacks: list[Any] | None,
) -> dict[str, Any]:
    """:func:`finetune` once the output folder is checked, with transformers' log in a file."""
    from transformers import (
        DataCollatorWithPadding,
        EarlyStoppingCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from llmnotes.lora import trainable_parameters

    resume_from, notes = checkpoint_to_resume(output, fingerprint) if resume else (None, [])
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    set_seed(config.seed)
    classifier, tokenizer = load_model_and_tokenizer(model, train.label_names)
    if config.lora_rank is not None:
        from llmnotes.lora import add_lora

        add_lora(classifier, config.lora_rank, config.lora_alpha)
    trainable = trainable_parameters(classifier)
    positions = getattr(classifier.config, "max_position_embeddings", None)
    if positions is not None and config.max_length > positions:
        raise ConfigError(
            f"max length {config.max_length} is over the {positions} positions {model} was "
            f"trained with; give at most {positions}"
        )
    datasets = {
        name: EncodedTexts(tokenizer, data, config.max_length, by_length=name != "train")
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
        disable_tqdm=True,  # the site's own console callback reports progress (_Console)
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        bf16=precision == "bf16",  # autocast: weights and optimizer stay fp32
        optim="adamw_torch_fused" if config.fused_adamw else "adamw_torch",
        torch_compile=config.compile,
        dataloader_num_workers=0,
        # Without an accelerator, say so: only then does Accelerate run several processes on
        # the CPU (MULTI_CPU over gloo) instead of treating each as a lone run.
        use_cpu=not has_accelerator(),
    )
    guard, clock = _RunGuard(), _EpochClock()
    callbacks = [*(callbacks or []), guard, clock]
    if config.early_stopping:
        callbacks.append(EarlyStoppingCallback(config.early_stopping))
    trainer = Trainer(
        model=classifier,
        args=arguments,
        train_dataset=datasets["train"],
        eval_dataset=datasets["validation"],
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=lambda pred: classification_metrics(pred.predictions, pred.label_ids),
        callbacks=callbacks,
    )
    for noisy in (PrinterCallback, ProgressCallback):  # they print every log dictionary
        trainer.remove_callback(noisy)
    trainer.add_callback(_Console(output / LOG_FILE, config.epochs, config.progress))
    (output / "checkpoints").mkdir(parents=True, exist_ok=True)
    (output / "checkpoints" / RUN_FILE).write_text(json.dumps({"fingerprint": fingerprint}))
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    wall = time.perf_counter() - start
    if guard.diverged_at is not None:
        raise TrainingDiverged(
            f"the training loss became NaN or infinite by step {guard.diverged_at} (learning "
            f"rate {config.lr:g}); nothing was saved: lower --lr (try 5e-5)"
        )
    metrics: dict[str, Any] = {
        # Training only: the epochs this process ran, without the evaluations and saves between.
        "train_samples_per_second": len(train) * clock.epochs / max(clock.seconds, 1e-9),
        "train_seconds": wall,
        "world_size": int(arguments.world_size),
        "trainable_parameters": trainable,
        "precision": precision,
    }
    kept = kept_evaluation(trainer.state)
    for name in ("validation", "test"):
        if name not in datasets:
            continue
        if name == "validation" and kept is not None:
            result = {f"validation_{k}": kept[f"eval_{k}"] for k in ("accuracy", "f1", "loss")}
        else:
            result = trainer.evaluate(datasets[name], metric_key_prefix=name)
        metrics |= {f"{name}_{k}": float(result[f"{name}_{k}"]) for k in ("accuracy", "f1", "loss")}
    metrics["history"] = epoch_history(trainer.state.log_history)
    if trainer.is_world_process_zero():
        if config.lora_rank is not None:
            save_adapter(trainer.model, output)
        save_classifier(trainer, tokenizer, output, metrics, config, model, train, fingerprint)
        # The checkpoints (with their optimizer state, several times the model's size) serve
        # only to resume an interrupted run; the saved classifier is all that is left to use.
        shutil.rmtree(output / "checkpoints", ignore_errors=True)
    return metrics


def kept_evaluation(state: Any) -> dict[str, Any] | None:
    """The logged evaluation of the checkpoint Trainer kept as best, so it need not run again.

    ``None`` when there is no such entry (no checkpoint was kept, or its log was lost).
    """
    step = checkpoint_step(getattr(state, "best_model_checkpoint", None))
    if step is None:
        return None
    for entry in reversed(state.log_history):
        if entry.get("step") == step and all(
            f"eval_{k}" in entry for k in ("accuracy", "f1", "loss")
        ):
            return entry
    return None


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


#: The LoRA run's trainable tensors (adapters and head), saved beside the merged classifier.
ADAPTER_FILE = "lora_adapter.safetensors"


def save_adapter(model: Any, output: Path) -> None:
    """Write the adapters and head (:data:`ADAPTER_FILE`), then fold the adapters in, in place.

    The folder's ``model.safetensors`` is then an ordinary classifier that ``pipeline`` loads;
    the adapter file is what a LoRA run needs to keep to share the result with the base model.
    """
    from safetensors.torch import save_file

    from llmnotes.lora import merge_lora, trainable_state

    output.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.contiguous() for name, tensor in trainable_state(model).items()}
    save_file(state, str(output / ADAPTER_FILE))
    merge_lora(model)


def save_classifier(
    trainer: Any,
    tokenizer: Any,
    output: Path,
    metrics: dict[str, Any],
    config: FinetuneConfig,
    model: str | Path,
    train: LabelledData,
    fingerprint: str,
) -> None:
    """Write the kept model, its tokenizer, ``metrics.json``, ``run_config.json`` and the run.

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
    (output / RUN_FILE).write_text(json.dumps({"fingerprint": fingerprint}) + "\n")
