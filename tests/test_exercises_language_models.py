"""The language-models exercises' checks accept the right answers and reject wrong ones."""

import math

import pytest
import torch

from llmnotes.decoding import top_p_filter
from llmnotes.exercises import language_models as ex
from llmnotes.gpt import GPT, GPTConfig


def test_untrained_bits_is_the_pages_measurement_in_bits():
    assert f"{ex.untrained_loss(50):.3f}" == "3.957"  # the page's first block, same seed
    nats = ex.untrained_loss(1000)
    assert ex.check_untrained_bits(1000, round(nats / math.log(2), 3))
    in_nats = ex.check_untrained_bits(1000, nats)
    assert not in_nats and "is the loss in nats; divide it by ln 2" in str(in_nats)
    uniform = ex.check_untrained_bits(1000, math.log2(1000))
    assert not uniform and "the uniform guess" in str(uniform)
    assert "too high" in str(ex.check_untrained_bits(1000, 12.0))
    assert "replace None" in str(ex.check_untrained_bits(1000, None))
    assert "2 to 65,536" in str(ex.check_untrained_bits(1, 1.0))


CONFIG = GPTConfig(vocab_size=64, context=32, d_model=32, heads=4, layers=2)


def test_parameter_count_is_the_models_and_names_the_usual_mistakes():
    model = GPT(CONFIG)
    count = model.num_parameters()
    assert ex.check_parameter_count(CONFIG, count)
    untied = ex.check_parameter_count(CONFIG, count + 64 * 32)
    assert not untied and "count it once" in str(untied)
    no_tables = ex.check_parameter_count(CONFIG, model.num_parameters(non_embedding=True))
    assert "leaves out the embedding tables" in str(no_tables)
    biases = sum(p.numel() for name, p in model.named_parameters() if name.endswith("bias"))
    assert "leaves out the biases" in str(ex.check_parameter_count(CONFIG, count - biases))
    assert "too low: the model has" in str(ex.check_parameter_count(CONFIG, count - 1))
    assert "whole number" in str(ex.check_parameter_count(CONFIG, 1.5))
    assert "must be a GPTConfig" in str(ex.check_parameter_count({}, count))
    assert not ex.check_parameter_count(CONFIG, None)


def test_temperature_frequencies_are_checked_against_the_scaled_softmax():
    assert ex.check_temperature_frequencies(0.5, ex.temperature_probabilities(0.5))
    at_one = ex.check_temperature_frequencies(0.5, ex.temperature_probabilities(1.0))
    assert not at_one and "the distribution at temperature 1" in str(at_one)
    multiplied = ex.check_temperature_frequencies(0.5, ex.temperature_probabilities(2.0))
    assert "multiplied by 0.5" in str(multiplied)
    assert "token 0 comes 0.800" in str(
        ex.check_temperature_frequencies(0.5, [0.8, 0.1, 0.05, 0.05, 0.0])
    )
    assert "add up to 1" in str(ex.check_temperature_frequencies(0.5, [0.5] * 5))
    assert "give 5 frequencies" in str(ex.check_temperature_frequencies(0.5, [1.0]))
    assert "above 0" in str(ex.check_temperature_frequencies(0, [1.0, 0, 0, 0, 0]))
    assert not ex.check_temperature_frequencies(0.5, None)


def test_top_p_check_accepts_the_reference_and_rejects_wrong_filters():
    assert ex.check_top_p(top_p_filter)
    unfiltered = ex.check_top_p(lambda logits, p: logits)
    assert not unfiltered and "kept [0, 1, 2, 3, 4]; it should keep [0, 1, 2]" in str(unfiltered)

    def drops_the_crossing_token(logits, p):  # keeps tokens while the mass *with* them is < p
        probs, order = logits.softmax(-1).sort(-1, descending=True)
        drop = probs.cumsum(-1) >= p
        drop[..., 0] = False
        return logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))

    assert "it should keep" in str(ex.check_top_p(drops_the_crossing_token))
    scaled = ex.check_top_p(lambda logits, p: top_p_filter(logits, p) * 2)
    assert "changed their logits" in str(scaled)
    assert "raised ZeroDivisionError" in str(ex.check_top_p(lambda logits, p: 1 / 0))
    assert not ex.check_top_p(None)


def cached_greedy(model, ids, max_new_tokens):
    out = model(ids)
    for _ in range(max_new_tokens):
        next_id = out.logits[:, -1].argmax(dim=-1, keepdim=True)
        ids = torch.cat((ids, next_id), dim=1)
        out = model(next_id, past=out.past)  # one spare step after the last token is allowed
    return ids


def recomputing_greedy(model, ids, max_new_tokens):
    for _ in range(max_new_tokens):
        ids = torch.cat((ids, model(ids).logits[:, -1].argmax(dim=-1, keepdim=True)), dim=1)
    return ids


def test_cached_greedy_needs_the_right_tokens_and_the_cache():
    assert ex.check_cached_greedy(cached_greedy)
    slow = ex.check_cached_greedy(recomputing_greedy)
    assert not slow and "right tokens, but" in str(slow) and "a cache feeds" in str(slow)

    def sampled(model, ids, max_new_tokens):  # not greedy: the second most likely token
        out = model(ids)
        for _ in range(max_new_tokens):
            next_id = out.logits[:, -1].topk(2).indices[:, 1:]
            ids = torch.cat((ids, next_id), dim=1)
            out = model(next_id, past=out.past)
        return ids

    assert "greedy decoding writes" in str(ex.check_cached_greedy(sampled))
    assert "the prompt, then" in str(ex.check_cached_greedy(lambda model, ids, n: ids))
    assert not ex.check_cached_greedy(None)


@pytest.mark.parametrize("index", range(len(ex.GREEDY_CASES)))
def test_each_greedy_case_writes_more_than_one_token(index):
    """A case whose tokens were all the same would not tell a wrong loop from a right one."""
    model, prompt, new = ex.GREEDY_CASES[index]
    written = ex.reference_greedy(model, prompt, new)[:, len(prompt[0]) :]
    assert new == 1 or all(len(set(row)) > 1 for row in written.tolist())
