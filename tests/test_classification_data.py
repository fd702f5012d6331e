import json

import pytest

from llmnotes.classification_data import (
    DataError,
    LabelledData,
    load_hub_dataset,
    load_labelled,
    sst2_splits,
    stratified_split,
)

from conftest import SHARED_DATA, needs_shared_data

ROWS = [
    ("a great film", "Positive"),
    ("dull", "Negative"),
    ("moving", "Positive"),
    ("bad", "Negative"),
]


def write_table(path, rows, text="text", label="label"):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[text, label])
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl", ".parquet"])
def test_tables_with_string_labels(tmp_path, suffix):
    data = load_labelled(str(write_table(tmp_path / f"d{suffix}", ROWS)))
    assert data.label_names == ["Negative", "Positive"]
    assert data.labels == [1, 0, 1, 0]
    assert data.texts[0] == "a great film"


def test_named_columns_and_missing_column_lists_the_columns(tmp_path):
    path = write_table(tmp_path / "d.csv", ROWS, text="review_body", label="stars")
    data = load_labelled(str(path), text_column="review_body", label_column="stars")
    assert len(data) == 4
    with pytest.raises(DataError, match=r"no column 'body'; its columns are: review_body, stars"):
        load_labelled(str(path), text_column="body")
    with pytest.raises(DataError, match=r"none of the usual text columns .* --text-column"):
        load_labelled(str(path))


def test_integer_labels_keep_their_ids(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "label": y}) for t, y in [("a", 1), ("b", 0)]))
    data = load_labelled(str(path))
    assert data.labels == [1, 0] and data.label_names == ["0", "1"]


def test_per_label_files(tmp_path):
    (tmp_path / "neg.txt").write_text("bad\nawful\n\n")
    (tmp_path / "pos.txt").write_text("great\n")
    data = load_labelled([f"neg={tmp_path / 'neg.txt'}", f"pos={tmp_path / 'pos.txt'}"])
    assert data.counts() == {"neg": 2, "pos": 1}
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DataError, match="is empty"):
        load_labelled([f"neg={tmp_path / 'empty.txt'}", f"pos={tmp_path / 'pos.txt'}"])


def test_aclimdb_style_folders(tmp_path):
    for label, texts in {"neg": ["bad", "awful"], "pos": ["great"], "unsup": ["?"]}.items():
        (tmp_path / label).mkdir()
        for i, text in enumerate(texts):
            (tmp_path / label / f"{i}_1.txt").write_text(text)
    data = load_labelled(str(tmp_path))
    assert data.counts() == {"neg": 2, "pos": 1}  # aclImdb's unlabelled "unsup" is skipped
    with pytest.raises(DataError, match="no label sub-folders"):
        load_labelled(str(tmp_path / "neg"))


def test_label_first_lines_and_a_malformed_line(tmp_path):
    (tmp_path / "train").write_text("1 a fine film\n0 a bore\n")
    assert load_labelled(str(tmp_path / "train")).labels == [1, 0]
    (tmp_path / "bad").write_text("1 fine\nnot a label\n")
    with pytest.raises(DataError, match=r"line 2: expected 'LABEL TEXT' lines"):
        load_labelled(str(tmp_path / "bad"))


def test_problems_are_one_clear_line(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        load_labelled("missing.csv")
    write_table(tmp_path / "one.csv", [("x", "pos"), ("y", "pos")])
    with pytest.raises(DataError, match="single class"):
        load_labelled(str(tmp_path / "one.csv")).check_trainable("the training data")
    (tmp_path / "empty.csv").write_text("text,label\n")
    with pytest.raises(DataError, match="has no examples"):
        load_labelled(str(tmp_path / "empty.csv"))
    (tmp_path / "nan.csv").write_text("text,label\nx,\ny,pos\n")
    with pytest.raises(DataError, match="without a label"):
        load_labelled(str(tmp_path / "nan.csv"))
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(DataError, match=r"cannot read .* as PARQUET"):
        load_labelled(str(tmp_path / "broken.parquet"))


def test_offline_hub_id_is_one_clear_line(monkeypatch):
    with pytest.raises(
        DataError, match=r"cannot load hub data set 'stanfordnlp/imdb:train' \(online only\)"
    ):
        load_hub_dataset("stanfordnlp/imdb:train")


def test_stratified_split_keeps_label_shares():
    data = LabelledData.from_pairs([(str(i), "a" if i % 4 else "b") for i in range(100)])
    rest, held = stratified_split(data, 0.2, seed=0)
    assert held.counts() == {"a": 15, "b": 5}
    assert len(rest) == 80 and not set(rest.texts) & set(held.texts)
    assert stratified_split(data, 0.2, seed=0)[1].texts == held.texts


@needs_shared_data
def test_sst2_from_the_shared_folder():
    splits = sst2_splits(SHARED_DATA / "sst2")
    assert {k: len(v) for k, v in splits.items()} == {
        "train": 6920,
        "validation": 872,
        "test": 1821,
    }
    assert splits["train"].counts() == {"negative": 3310, "positive": 3610}


def test_label_ids_with_gaps_are_refused():
    with pytest.raises(DataError, match=r"ids up to 1,000,000 but 999,999 of them have no example"):
        LabelledData.from_pairs([("a", 0), ("b", 1_000_000)])


def test_a_small_data_set_keeps_every_label_on_both_sides_of_the_split():
    data = LabelledData.from_pairs([(f"t{i}", i % 2) for i in range(6)])  # three of each
    rest, held = stratified_split(data, 0.1, seed=0)
    assert held.counts() == {"0": 1, "1": 1} and rest.counts() == {"0": 2, "1": 2}
