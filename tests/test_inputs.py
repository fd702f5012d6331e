import argparse

import pytest

from llmnotes import week1
from llmnotes.classification_data import DataError
from llmnotes.errors import UserError
from llmnotes.pipeline.inputs import (
    CLI_BPE_VOCAB_SIZE,
    InputError,
    Reference,
    finetune_inputs,
    model_location,
    open_vectors,
    parse_reference,
    tokenize_with,
)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("minilm", "asset"),
        ("sst2", "asset"),
        ("./model", "path"),
        ("~/data.csv", "path"),
        ("/tmp", "path"),
        ("a/b/c", "path"),
        ("stanfordnlp/sst2", "hub"),
        ("stanfordnlp/sst2:train", "hub"),
        ("gpt2", "asset"),
        ("distilgpt2", "path"),
    ],
)
def test_parse_reference_tells_assets_paths_and_hub_ids_apart(text, kind):
    assert parse_reference(text) == Reference(kind, text)


def test_an_existing_folder_wins_over_a_hub_id(tmp_path, monkeypatch):
    (tmp_path / "owner" / "name").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert parse_reference("owner/name").kind == "path"


def test_empty_names_and_missing_model_folders_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="an empty name"):
        parse_reference("  ")
    with pytest.raises(InputError, match="no such model folder"):
        model_location(str(tmp_path / "missing"))
    assert model_location("owner/name") == "owner/name"
    assert model_location("distilbert-base-uncased") == "distilbert-base-uncased"
    assert parse_reference("distilgpt2", bare_hub_ids=True).kind == "hub"
    assert model_location("minilm", offline=True).is_dir()


def test_finetune_inputs_name_a_missing_path(tmp_path):
    args = argparse.Namespace(
        model="minilm", train=[str(tmp_path / "none.csv")], eval=None, test=None,
        text_column=None, label_column=None, seed=0,
    )  # fmt: skip
    with pytest.raises(DataError, match="no such file or folder"):
        finetune_inputs(args, offline=True)


def test_open_vectors_falls_back_to_the_stand_in(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMNOTES_DATA_DIR", str(tmp_path / "absent"))
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path / "absent"))
    _, source = open_vectors(None, offline=True)
    assert "offline stand-in for GloVe" in source
    with pytest.raises(InputError, match="no such vectors file or asset"):
        open_vectors(str(tmp_path / "none.txt"))


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
    with pytest.raises(InputError, match=message):
        tokenize_with(method, text, tmp_path)
