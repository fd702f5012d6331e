import csv
import json

import numpy as np
import pytest

from llmnotes.classification_data import LabelledData, pang_lee_data
from llmnotes.evaluation import EvaluationError, evaluate_classifier, label_ids, scores
from llmnotes.finetune import FinetuneConfig, finetune
from llmnotes.pipeline.assets import resolve


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A classifier fine-tuned for one epoch on 40 sentences, and its test metrics."""
    data = pang_lee_data(resolve("gensim-test-data", offline=True).path)
    train, test = data.subset(range(0, 200, 5)), data.subset(range(1, 200, 7))
    folder = tmp_path_factory.mktemp("classifier")
    config = FinetuneConfig(epochs=1, batch_size=8, max_length=32, progress=False)
    metrics = finetune(resolve("minilm", offline=True).path, train, train, folder, config, test)
    return folder, test, metrics


def test_scores_follow_sklearns_definitions():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 2.0]])
    accuracy, f1, confusion, per_class = scores(logits, np.array([0, 1, 1, 1]), ["neg", "pos"])
    assert accuracy == 0.75 and f1 == pytest.approx((2 / 3 + 0.8) / 2)
    assert confusion == [[1, 0], [1, 2]]
    assert per_class["pos"] == {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}


def test_a_saved_classifier_scores_what_fine_tuning_reported(trained):
    folder, test, metrics = trained
    # The batches fine-tuning evaluated (twice its batch size, shortest first), so the same sums.
    result = evaluate_classifier(folder, test, batch_size=16, max_length=32)
    assert result.accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-9)
    assert result.f1 == pytest.approx(metrics["test_f1"], abs=1e-9)
    # The loss is averaged by two code paths whose matrix products may pick different fp32
    # kernels (about 2e-5 apart on this CPU, also at the last commit); a wrong reduction or
    # label order is off by far more.
    assert result.loss == pytest.approx(metrics["test_loss"], rel=1e-4)
    assert sum(map(sum, result.confusion)) == result.examples == len(test)
    json.dumps(result.as_dict())  # plain JSON


def test_labels_match_by_name_whatever_the_case(trained):
    folder, test, _ = trained
    shouting = LabelledData(test.texts, test.labels, [n.upper() for n in test.label_names])
    assert evaluate_classifier(folder, shouting, max_length=32).accuracy == pytest.approx(
        evaluate_classifier(folder, test, max_length=32).accuracy
    )


def test_labels_the_model_does_not_know_are_named_with_its_own():
    with pytest.raises(EvaluationError, match=r"\['ham', 'spam'\].*knows \['neg', 'pos'\]"):
        label_ids(["ham", "spam"], {0: "neg", 1: "pos"})


def test_the_evaluate_command_prints_the_tables_and_writes_json(trained, tmp_path, capsys):
    from llmnotes.cli import main

    folder, test, _ = trained
    data = tmp_path / "test.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(
            (t, test.label_names[y]) for t, y in zip(test.texts, test.labels, strict=True)
        )
    out = tmp_path / "result.json"
    args = ["evaluate", "--model", str(folder), "--test", str(data), "--json", str(out)]
    assert main([*args, "--offline", "--quiet"]) == 0
    printed = capsys.readouterr().out
    expected = evaluate_classifier(folder, test, max_length=32)  # the trained max length
    assert printed.startswith("split ") and f"test   {expected.accuracy:.4f}" in printed
    assert "confusion matrix" in printed and "support" in printed
    assert json.loads(out.read_text()) == json.loads(json.dumps(expected.as_dict()))
    spam = tmp_path / "spam.csv"
    spam.write_text("text,label\nbuy now,spam\nhello,ham\n")
    assert main(["evaluate", "--model", str(folder), "--test", str(spam), "--offline"]) == 2
    assert "knows ['neg', 'pos']" in capsys.readouterr().err


def test_fp32_and_bf16_evaluations_agree(trained):
    folder, test, _ = trained
    fp32 = evaluate_classifier(folder, test, max_length=32, precision="fp32")
    auto = evaluate_classifier(folder, test, max_length=32)
    assert auto.loss == pytest.approx(fp32.loss, rel=0.02)  # bf16: 2 to 3 significant digits
    assert abs(auto.accuracy - fp32.accuracy) <= 2 / len(test)
