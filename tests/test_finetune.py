import json
import os
import subprocess
import sys

import numpy as np
import pytest

from llmnotes.classification_data import pang_lee_data
from llmnotes.finetune import (
    RUN_FILE,
    CheckpointError,
    ConfigError,
    EncodedTexts,
    FinetuneConfig,
    ModelError,
    TrainingDiverged,
    classification_metrics,
    epoch_history,
    finetune,
    load_model_and_tokenizer,
    padding_share,
)
from llmnotes.pipeline.assets import resolve

TINY = FinetuneConfig(epochs=1, batch_size=8, max_length=16, lr=1e-4, progress=False)


def pang_lee(n):
    """Every (200 / n)-th of gensim's 200 labelled sentences, loaded by the package's own loader."""
    data = pang_lee_data(resolve("gensim-test-data", offline=True).path)
    return data.subset(list(range(0, 200, 200 // n)))


def test_metrics_against_sklearn_definitions():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 2.0]])
    metrics = classification_metrics(logits, np.array([0, 1, 1, 1]))
    assert metrics["accuracy"] == 0.75
    assert metrics["f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_epoch_history_merges_train_and_eval_logs():
    logs = [{"loss": 0.7, "epoch": 1.0}, {"eval_loss": 0.6, "eval_accuracy": 0.8, "epoch": 1.0}]
    assert epoch_history(logs) == [
        {"epoch": 1.0, "train_loss": 0.7, "validation_loss": 0.6, "validation_accuracy": 0.8}
    ]


def test_model_folder_without_tokenizer_is_one_clear_line(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="has no tokenizer"):
        load_model_and_tokenizer(tmp_path, ["neg", "pos"])


def test_finetune_saves_a_folder_the_pipeline_loads(tmp_path):
    from transformers import pipeline

    data = pang_lee(40)
    metrics = finetune(resolve("minilm", offline=True).path, data, data, tmp_path, TINY, test=data)
    assert metrics["world_size"] == 1
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["train_samples_per_second"] > 0
    assert [row["epoch"] for row in metrics["history"]] == [1.0]
    assert (tmp_path / "model.safetensors").is_file()
    assert not list(tmp_path.glob("*.bin")), "no pickles in the shared classifier folder"
    assert json.loads((tmp_path / "run_config.json").read_text())["label_names"] == ["neg", "pos"]
    classifier = pipeline("text-classification", model=str(tmp_path))
    assert classifier("a wonderful film")[0]["label"] in {"neg", "pos"}


def interrupt_after_first_save():
    """A callback that stops training like Ctrl-C once the first checkpoint is written."""
    from transformers import TrainerCallback

    class Interrupt(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.epoch >= 1:
                raise KeyboardInterrupt

    return Interrupt()


TWO_EPOCHS = FinetuneConfig(**{**TINY.__dict__, "epochs": 2})


def test_an_interrupted_run_resumes_from_its_own_last_complete_checkpoint(tmp_path, capsys):
    data, other = pang_lee(40), pang_lee(20)
    model = resolve("minilm", offline=True).path
    with pytest.raises(KeyboardInterrupt):
        finetune(model, data, data, tmp_path, TWO_EPOCHS, callbacks=[interrupt_after_first_save()])
    [saved] = (tmp_path / "checkpoints").glob("checkpoint-*")
    assert (saved.parent / RUN_FILE).is_file()
    with pytest.raises(CheckpointError, match="already holds a classifier or checkpoints"):
        finetune(model, data, data, tmp_path, TWO_EPOCHS)  # neither --resume nor --overwrite
    with pytest.raises(CheckpointError, match="belong to another run"):
        finetune(model, other, other, tmp_path, TWO_EPOCHS, resume=True)
    partial = tmp_path / "checkpoints" / "checkpoint-999"  # a kill while it was being saved
    partial.mkdir()
    (partial / "trainer_state.json").write_text("{")
    metrics = finetune(model, data, data, tmp_path, TWO_EPOCHS, resume=True)
    assert "skipped checkpoint-999: incomplete" in capsys.readouterr().err
    assert [row["epoch"] for row in metrics["history"]] == [1.0, 2.0]
    assert not (tmp_path / "checkpoints").exists(), "only the model is kept after success"
    assert (tmp_path / "model.safetensors").is_file()
    with pytest.raises(CheckpointError, match="already holds this run's finished classifier"):
        finetune(model, data, data, tmp_path, TWO_EPOCHS, resume=True)
    with pytest.raises(CheckpointError, match="already holds a classifier"):
        finetune(model, other, other, tmp_path, TINY)


def test_an_output_folder_with_other_files_or_a_file_is_refused(tmp_path):
    data = pang_lee(20)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="holds other files"):
        finetune("unused", data, data, tmp_path, TINY)
    with pytest.raises(CheckpointError, match="is a file"):
        finetune("unused", data, data, tmp_path / "notes.txt", TINY)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_diverging_loss_saves_nothing(tmp_path):
    from transformers import TrainerCallback

    class Explode(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                logs["loss"] = float("nan")

    data = pang_lee(20)
    with pytest.raises(TrainingDiverged, match=r"NaN or infinite by step 3.*lower --lr"):
        finetune(resolve("minilm", offline=True).path, data, data, tmp_path / "out", TINY,
                 callbacks=[Explode()])  # fmt: skip
    assert not (tmp_path / "out" / "model.safetensors").exists()


@pytest.mark.parametrize(
    "setting, value",
    [("epochs", 0), ("epochs", -1), ("epochs", float("nan")), ("lr", 1e308), ("lr", -1.0),
     ("lr", float("inf")), ("batch_size", 0), ("max_length", -1), ("seed", -1),
     ("early_stopping", 0)],
)  # fmt: skip
def test_settings_out_of_range_are_refused_before_anything_loads(setting, value):
    with pytest.raises(ConfigError, match=f"{setting.replace('_', ' ')} .* is out of range"):
        FinetuneConfig(**{setting: value})


def test_a_max_length_over_the_models_positions_is_refused(tmp_path):
    data = pang_lee(20)
    config = FinetuneConfig(**{**TINY.__dict__, "max_length": 100_000})
    with pytest.raises(ConfigError, match="over the 512 positions"):
        finetune(resolve("minilm", offline=True).path, data, data, tmp_path, config)


def test_the_same_entry_point_runs_on_two_processes(tmp_path):
    """torchrun starts two ranks; Trainer (through Accelerate) trains over gloo on the CPU."""
    neg, pos = tmp_path / "neg.txt", tmp_path / "pos.txt"
    data = pang_lee(48)
    for path, label in ((neg, 0), (pos, 1)):
        path.write_text(
            "\n".join(t for t, y in zip(data.texts, data.labels, strict=True) if y == label)
        )
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "llmnotes",
        "finetune", "--train", f"neg={neg}", f"pos={pos}", "--output", str(tmp_path / "out"),
        "--epochs", "1", "--batch-size", "4", "--max-length", "16", "--quiet", "--offline",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "on 2 process(es)" in result.stdout
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["world_size"] == 2


def test_lora_trains_adapters_only_and_saves_a_classifier_the_pipeline_loads(tmp_path):
    from safetensors.torch import load_file
    from transformers import pipeline

    from llmnotes.finetune import ADAPTER_FILE

    data = pang_lee(40)
    model = resolve("minilm", offline=True).path
    lora = FinetuneConfig(**{**TINY.__dict__, "lora_rank": 4, "lora_alpha": 8})
    metrics = finetune(model, data, data, tmp_path / "lora", lora)
    full = finetune(model, data, data, tmp_path / "full", TINY)
    layers, width = 6, 384  # MiniLM-L6: queries and values of 6 layers, 384 wide
    head = width * 2 + 2
    assert metrics["trainable_parameters"] == layers * 2 * 4 * (width + width) + head
    assert full["trainable_parameters"] > 100 * metrics["trainable_parameters"]
    adapter = load_file(str(tmp_path / "lora" / ADAPTER_FILE))
    assert sum(t.numel() for t in adapter.values()) == metrics["trainable_parameters"]
    classifier = pipeline("text-classification", model=str(tmp_path / "lora"))
    assert classifier("a wonderful film")[0]["label"] in {"neg", "pos"}


def test_the_console_shows_one_line_an_epoch_and_the_log_file_the_rest(tmp_path, capsys):
    data = pang_lee(20)
    loud = FinetuneConfig(**{**TINY.__dict__, "epochs": 2, "progress": True})
    finetune(resolve("minilm", offline=True).path, data, data, tmp_path, loud)
    err = capsys.readouterr().err
    assert "a new classification head is trained for neg, pos" in err
    assert "epoch 1/2: train loss" in err and "epoch 2/2: train loss" in err
    assert "MISSING" not in err and "LOAD REPORT" not in err and "{'" not in err
    lines = (tmp_path / "train.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert any("eval_accuracy" in entry for entry in logged)


def test_bf16_falls_back_to_fp32_where_the_hardware_lacks_it(tmp_path, monkeypatch, capsys):
    import llmnotes.precision
    from llmnotes.precision import training_precision

    assert training_precision("fp32", supported=True) == ("fp32", None)
    assert training_precision("auto", supported=True, faster=True) == ("bf16", None)
    assert training_precision("auto", supported=False) == ("fp32", None)
    precision, note = training_precision("bf16", supported=False)
    assert precision == "fp32" and "no native bf16" in note
    monkeypatch.setattr(llmnotes.precision, "bf16_supported", lambda cpuinfo=None: False)
    data = pang_lee(20)
    config = FinetuneConfig(**{**TINY.__dict__, "precision": "bf16"})
    metrics = finetune(resolve("minilm", offline=True).path, data, data, tmp_path, config)
    assert metrics["precision"] == "fp32"
    assert "training in fp32 instead" in capsys.readouterr().err


def test_an_unknown_precision_is_refused():
    with pytest.raises(ConfigError, match="precision 'fp16' is not known: give one of auto"):
        FinetuneConfig(precision="fp16")


def test_the_kept_epochs_logged_evaluation_equals_a_fresh_one(tmp_path):
    data = pang_lee(40)
    metrics = finetune(resolve("minilm", offline=True).path, data, data, tmp_path, TWO_EPOCHS,
                       test=data)  # fmt: skip
    # Validation figures come from the log of the kept epoch; test ones from a new evaluation.
    assert metrics["validation_accuracy"] == metrics["test_accuracy"]
    assert metrics["validation_loss"] == pytest.approx(metrics["test_loss"], rel=1e-3)
    best = max(row["validation_accuracy"] for row in metrics["history"])
    assert metrics["validation_accuracy"] == best


def test_evaluation_examples_are_ordered_shortest_first():
    _, tokenizer = load_model_and_tokenizer(resolve("minilm", offline=True).path, ["neg", "pos"])
    data = pang_lee(20)
    encoded = EncodedTexts(tokenizer, data, 64, by_length=True)
    lengths = [len(ids) for ids in encoded.encodings["input_ids"]]
    assert lengths == sorted(lengths) and sorted(encoded.labels) == sorted(data.labels)
    pairs = {(tokenizer.decode(encoded[i]["input_ids"], skip_special_tokens=True),
              encoded[i]["labels"]) for i in range(len(encoded))}  # fmt: skip
    truth = {(tokenizer.decode(tokenizer(t, truncation=True, max_length=64)["input_ids"],
                               skip_special_tokens=True), label)
             for t, label in zip(data.texts, data.labels, strict=True)}  # fmt: skip
    assert pairs == truth


def test_grouping_by_length_cuts_padding():
    import random

    draw = random.Random(0)
    lengths = [draw.randint(3, 60) for _ in range(1000)]
    shuffled, grouped = (padding_share(lengths, 32, g) for g in (False, True))
    assert grouped < shuffled / 2 and grouped > 0
    assert padding_share([4] * 64, 32, False) == 0.0
