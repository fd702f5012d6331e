import pytest

from llmnotes import week1
from llmnotes.pipeline.assets import resolve
from llmnotes.tokenization import (
    granularity_counts,
    load_tokenizer,
    word_tokens,
    wordpiece_encoding,
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
