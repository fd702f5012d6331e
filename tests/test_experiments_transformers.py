import pytest

from llmnotes.experiments.transformers import (
    attention_cost,
    attention_maps,
    attention_weights,
    encoder_parity,
    sentiment,
)
from llmnotes.pipeline.assets import Resolved, resolve
from llmnotes.pipeline.experiment import Choice


@pytest.fixture(scope="module")
def minilm():
    return resolve("minilm", offline=True)


def test_attention_weights_are_distributions(minilm):
    tokens, attentions = attention_weights(minilm.path, "Transformers power modern LLMs")
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert len(attentions) == 6 and attentions[0].shape == (12, len(tokens), len(tokens))
    assert abs(attentions[3].sum(-1) - 1).max() < 1e-5


def test_attention_maps_finds_the_pronoun_head(minilm):
    result = attention_maps.run(Choice({"model": minilm}, 0))
    values = result.values
    assert values["it_to_animal"] > values["it_to_street"]
    assert len(values["special_token_share"]) == 6
    assert set(result.figures) == {"head", "grid", "sinks"}
    spec = result.figures["head"].chart.to_dict()
    start = {p["name"]: p["value"] for p in spec["params"]}
    assert (start["layer"], start["head"]) == (values["layer"], values["head"])
    assert start["tokens"] == values["tokens"]
    rows = spec["data"]["values"]
    assert len(rows) == 6 * 12 * len(values["tokens"])
    it, animal = values["tokens"].index("it"), values["tokens"].index("animal")
    (chosen,) = [
        r
        for r in rows
        if (r["layer"], r["head"], r["query"]) == (values["layer"], values["head"], it)
    ]
    assert chosen["weight"][animal] == pytest.approx(values["it_to_animal"], abs=1e-4)
    assert all(abs(sum(r["weight"]) - 1) < 1e-3 for r in rows)


def test_encoder_parity_within_tolerance(minilm):
    data = resolve("gensim-test-data", offline=True)
    values = encoder_parity.run(Choice({"model": minilm, "data": data}, 0)).values
    assert values["sentences"] == 200
    assert max(values["max_abs_difference"]) < values["tolerance"]


def test_attention_cost_tiny():
    exp = attention_cost.with_settings(lengths=[8, 16], heads=2, head_dim=4)
    values = exp.run(Choice({}, 0)).values
    assert values["weights_megabytes"] == [2 * 8 * 8 * 4 / 2**20, 2 * 16 * 16 * 4 / 2**20]
    assert all(t > 0 for t in values["ours_seconds"])


def test_sentiment_with_a_freshly_trained_tiny_classifier(tmp_path):
    from llmnotes.classification_data import LabelledData
    from llmnotes.finetune import FinetuneConfig, finetune

    data = LabelledData.from_pairs([("great", "positive"), ("awful", "negative")] * 8)
    config = FinetuneConfig(epochs=1, batch_size=8, max_length=8, progress=False)
    finetune(resolve("minilm", offline=True).path, data, data, tmp_path, config)
    classifier = Resolved("minilm-sst2", "path", str(tmp_path), tmp_path, "x")
    values = sentiment.run(Choice({"classifier": classifier}, 1)).values
    assert values["sentence"] == "I love learning about LLMs"
    assert values["label"] in {"positive", "negative"} and 0.5 <= values["score"] <= 1
    assert set(values["hard_cases"]) == {"negation", "double negation", "sarcasm", "mixed"}
