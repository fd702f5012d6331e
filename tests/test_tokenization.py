import itertools

import pytest

from llmnotes import week1
from llmnotes.assets import resolve
from llmnotes.experiments import Choice
from llmnotes.tokenization import (
    CLI_BPE_VOCAB_SIZE,
    bpe_vocab_sweep,
    granularity_counts,
    load_tokenizer,
    tokenize_with,
    week1_word_tokens,
    week1_wordpiece,
    word_tokens,
    wordpiece_encoding,
    wordpiece_splits,
    wordpiece_throughput,
)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(resolve("minilm", offline=True).path)


def test_word_tokens_match_week1():
    assert word_tokens(week1.NLTK_SENTENCE) == week1.NLTK_TOKENS


def test_word_tokens_match_nltk_treebank_on_one_sentence():
    from nltk.tokenize import TreebankWordTokenizer

    text = 'Don\'t split "quotes", please (or do).'
    assert word_tokens(text) == TreebankWordTokenizer().tokenize(text)


def test_wordpiece_encoding_of_week1_sentence(tokenizer):
    encoding = wordpiece_encoding(tokenizer, week1.BERT_SENTENCE)
    assert encoding["ids"] == [101, 19081, 2373, 2715, 2222, 5244, 102]
    assert encoding["tokens"][1:-1] == week1.BERT_TOKENS
    assert encoding["attention_mask"] == [1] * 7


def test_minilm_vocabulary_is_bert_base_uncased_size(tokenizer):
    assert len(tokenizer) == 30522


def test_granularity_counts(tokenizer):
    counts = granularity_counts(tokenizer, "Transformers power modern LLMs")
    assert counts == {
        "UTF-8 bytes": 30,
        "characters": 30,
        "WordPiece subwords": 5,
        "words (NLTK)": 4,
    }
    assert granularity_counts(tokenizer, "café")["UTF-8 bytes"] == 5


def test_week1_experiments_on_the_stand_in():
    choice = week1_wordpiece.choose(offline=True)
    assert choice.key == "minilm" and choice.preference == 1
    result = week1_wordpiece.run(choice)
    assert result.values["matches"] is True
    assert set(result.figures) == {"granularity"}
    assert week1_word_tokens.run(week1_word_tokens.choose(offline=True)).values["matches"] is True


def stand_in_choice(exp):
    """Run on the packaged stand-ins only: gensim's corpora and MiniLM's tokenizer."""
    assets = {"corpus": resolve("gensim-test-data", offline=True)}
    if "tokenizer" in exp.assets:
        assets["tokenizer"] = resolve("minilm", offline=True)
    return Choice(assets, 2)


def test_bpe_sweep_on_the_gensim_corpus():
    values = bpe_vocab_sweep.run(stand_in_choice(bpe_vocab_sweep)).values
    assert values["corpus"].startswith("gensim")
    assert values["vocab_sizes"][0] == 256
    per_word = values["tokens_per_word"]
    assert all(a > b for a, b in itertools.pairwise(per_word))
    assert values["tokens_per_char"][0] == pytest.approx(1.0, abs=0.01)  # bytes ≈ characters


def test_wordpiece_splits_on_the_gensim_corpus():
    values = wordpiece_splits.run(stand_in_choice(wordpiece_splits)).values
    assert 0 < values["split_fraction"] < values["split_fraction_types"] < 1
    assert sum(values["pieces_histogram"].values()) == pytest.approx(1.0)
    assert values["rank_buckets"][0] == "top 1,000"
    frequent, *_, rare = values["split_fraction_by_rank"]
    assert frequent < rare


def test_throughput_is_measured_on_identical_output():
    exp = wordpiece_throughput.with_settings(lines=50, repeats=1)
    values = exp.run(stand_in_choice(exp)).values
    assert values["lines"] == values["identical_lines"] == 50
    assert values["ours_tokens_per_s"] > 0 and values["batch_speedup"] > 0


def test_tokenize_with_each_method(tmp_path):
    bert = tokenize_with("bert", week1.BERT_SENTENCE, tmp_path, offline=True)
    assert bert.ids == [101, 19081, 2373, 2715, 2222, 5244, 102]
    assert "minilm" in bert.source and "stand-in" in bert.source
    assert tokenize_with("nltk", week1.NLTK_SENTENCE, tmp_path).tokens == week1.NLTK_TOKENS
    bpe = tokenize_with("bpe", "héllo wörld", tmp_path)
    assert (tmp_path / "bpe" / f"lee-background-{CLI_BPE_VOCAB_SIZE}.json").is_file()
    assert tokenize_with("bpe", "héllo wörld", tmp_path).ids == bpe.ids


@pytest.mark.parametrize(
    "method, text, message",
    [
        ("gpt", "x", "unknown tokenizer 'gpt'; choose one of: bert, nltk, bpe"),
        ("bert", "  ", "nothing to tokenize"),
        ("bpe", "bad \udcff byte", "not valid UTF-8"),
    ],
)
def test_tokenize_with_bad_input(tmp_path, method, text, message):
    with pytest.raises(ValueError, match=message):
        tokenize_with(method, text, tmp_path)
