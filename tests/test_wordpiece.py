import pytest

from llmnotes.corpora import lee_background, pang_lee_sentences, wikitext2
from llmnotes.pipeline.assets import resolve
from llmnotes.tokenization import load_tokenizer
from llmnotes.wordpiece import (
    WordPiece,
    is_punctuation,
    load_vocab,
    normalize,
    pre_tokenize,
    strip_accents,
)

from conftest import SHARED_DATA, needs_shared_data

EDGE_CASES = [
    "",
    " ",
    "Transformers power modern LLMs",
    "Café naïve résumé Ångström",
    "Hello, world!!! (yes) [no] {maybe} $100 + 5% ^ ~ `code`",
    "日本語のテキスト and 中文",
    "\x00control\x07chars\ufffd\x1b",
    "tab\tnew\nline\r\u00a0nbsp\u2003em\u200bzero",
    "a" * 150,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "ŞĞÜÖÇİ ß ﬁ ΣΙΣΥΦΟΣ",
    "emoji 🙂🙃 and symbols ™ © ½ ① ²",
    "don't stop-believing... e.g. U.S.A.",
    "\u0301combining first",
]


@pytest.fixture(scope="module")
def tokenizers():
    path = resolve("minilm", offline=True).path
    return WordPiece.from_file(path), load_tokenizer(path)


def assert_same_ids(tokenizers, texts):
    ours, fast = tokenizers
    for text in texts:
        assert ours.encode(text) == fast(text)["input_ids"], repr(text)


def test_parity_on_all_200_pang_lee_sentences(tokenizers):
    sentences = pang_lee_sentences(resolve("gensim-test-data", offline=True).path)
    assert len(sentences) == 200
    assert_same_ids(tokenizers, sentences)


def test_parity_on_the_lee_news_corpus(tokenizers):
    assert_same_ids(tokenizers, lee_background(resolve("gensim-test-data", offline=True).path))


@pytest.mark.parametrize("text", EDGE_CASES)
def test_parity_on_edge_cases(tokenizers, text):
    assert_same_ids(tokenizers, [text])


@needs_shared_data
def test_parity_on_wikitext2_validation(tokenizers):
    assert_same_ids(tokenizers, wikitext2(SHARED_DATA / "wikitext2", "valid"))


def test_week1_ids_and_unknown_words(tokenizers):
    ours, _ = tokenizers
    assert ours.encode("Transformers power modern LLMs") == [
        101,
        19081,
        2373,
        2715,
        2222,
        5244,
        102,
    ]
    assert ours.tokenize("a" * 101) == ["[UNK]"]
    assert ours.tokenize("🙂") == ["[UNK]"]


def test_decode_glues_continuations(tokenizers):
    ours, fast = tokenizers
    ids = ours.encode("Transformers power modern LLMs!")
    assert ours.decode(ids) == "transformers power modern llms !"
    assert fast.decode(ids, skip_special_tokens=True) == "transformers power modern llms!"


def test_normalisation_steps():
    assert strip_accents("Café") == "Cafe"
    assert normalize("Ça\tVA\x00") == "ca va"
    assert normalize("日本") == " 日  本 "
    assert pre_tokenize("hello, world!") == ["hello", ",", "world", "!"]
    assert is_punctuation("$") and is_punctuation("¿") and not is_punctuation("a")


def test_greedy_longest_match_first():
    vocab = {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "una": 4, "##ffable": 5}
    assert WordPiece(vocab).split_word("unaffable") == ["una", "##ffable"]
    assert WordPiece(vocab).split_word("unx") == ["[UNK]"]


def test_load_vocab_from_folder_or_file(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n")
    assert load_vocab(tmp_path) == {"[PAD]": 0, "[UNK]": 1, "hello": 2}
    assert load_vocab(tmp_path / "vocab.txt")["hello"] == 2
    with pytest.raises(FileNotFoundError, match=r"no vocab\.txt"):
        load_vocab(tmp_path / "missing")
