import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmnotes.bpe import BPETokenizer, byte_alphabet, merge, pairs_of, pre_tokenize
from llmnotes.corpora import lee_background, pang_lee_sentences
from llmnotes.pipeline.assets import resolve


@pytest.fixture(scope="module")
def lee_text():
    return "\n".join(lee_background(resolve("gensim-test-data", offline=True).path))


def train_library_bpe(text, vocab_size):
    """Hugging Face tokenizers' BPE trainer with the settings our trainer follows."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    tokenizer.train_from_iterator([text], trainer)
    return tokenizer


def test_merge_and_pairs_follow_minbpe_semantics():
    assert merge([1, 2, 2, 2, 1, 2], (2, 2), 9) == [1, 9, 2, 1, 2]
    assert pairs_of([5, 5, 5]) == {(5, 5): 2}


def test_byte_alphabet_matches_the_library():
    from tokenizers import pre_tokenizers

    assert sorted(byte_alphabet().values()) == sorted(pre_tokenizers.ByteLevel.alphabet())
    assert byte_alphabet()[ord(" ")] == "Ġ"


def test_pre_tokenize_matches_the_library():
    from tokenizers import pre_tokenizers

    library = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    text = "Hello  world's 2024 café,\n\tdone!!  "
    chunks = [piece for piece, _ in library.pre_tokenize_str(text)]
    alphabet = byte_alphabet()
    assert ["".join(alphabet[b] for b in c.encode()) for c in pre_tokenize(text)] == chunks


@pytest.mark.parametrize("vocab_size", [300, 1256])
def test_trainer_reproduces_library_merges_on_a_real_corpus(lee_text, vocab_size):
    ours = BPETokenizer.train(lee_text, vocab_size)
    library = json.loads(train_library_bpe(lee_text, vocab_size).to_str())["model"]["merges"]
    assert [[ours.token_text(a), ours.token_text(b)] for a, b in ours.merges] == library


def test_encoder_matches_library_tokens(lee_text):
    ours = BPETokenizer.train(lee_text, 1256)
    library = train_library_bpe(lee_text, 1256)
    sentences = pang_lee_sentences(resolve("gensim-test-data", offline=True).path)
    for text in [*sentences, "naïve café 🙂 — 1,234.5", ""]:
        assert [ours.token_text(i) for i in ours.encode(text)] == library.encode(text).tokens


def test_vocab_size_and_truncation():
    bpe = BPETokenizer.train("aaab aaab aaab", 260)
    assert bpe.vocab_size == len(bpe.vocab) <= 260
    assert bpe.truncated(257).merges == bpe.merges[:1]
    with pytest.raises(ValueError, match="at least 256"):
        BPETokenizer.train("x", 100)


def test_training_stops_when_no_pair_is_left():
    bpe = BPETokenizer.train("ab", 1000)
    assert bpe.merges == [(97, 98)]


def test_save_and_load_round_trip(tmp_path):
    bpe = BPETokenizer.train("low lower lowest newest widest", 270)
    bpe.save(tmp_path / "bpe.json")
    again = BPETokenizer.load(tmp_path / "bpe.json")
    assert again.merges == bpe.merges
    assert again.encode("lowest widest") == bpe.encode("lowest widest")


def test_decode_of_a_cut_multibyte_character():
    bpe = BPETokenizer([])
    ids = bpe.encode("é")
    assert bpe.decode(ids[:1]) == "\ufffd"
    with pytest.raises(UnicodeDecodeError):
        bpe.decode(ids[:1], errors="strict")


TRAINED = BPETokenizer.train("the cat sat on the mat; the café naïve 🙂 日本語 " * 3, 330)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_round_trip_on_any_unicode(text):
    assert TRAINED.decode(TRAINED.encode(text)) == text
