import json
import os

import pytest

from llmnotes.pipeline.metrics import (
    Entry,
    MetricsStore,
    MetricsStoreError,
    MissingMetric,
    write_atomic,
)


def entry(value, preference=0, **prov):
    return Entry(values={"v": value}, provenance={"input_hash": "h", **prov}, preference=preference)


def test_round_trip_and_keying_by_asset(tmp_path):
    path = tmp_path / "metrics.json"
    store = MetricsStore(path)
    store.put("topic.exp", "real-asset", entry(1))
    store.put("topic.exp", "stand-in", entry(2, preference=1))
    reread = MetricsStore(path)
    assert reread.get("topic.exp", "real-asset").values == {"v": 1}
    assert reread.get("topic.exp", "stand-in").values == {"v": 2}
    assert set(reread.entries("topic.exp")) == {"real-asset", "stand-in"}


def test_stand_in_never_overwrites_the_real_result(tmp_path):
    store = MetricsStore(tmp_path / "m.json")
    store.put("t.e", "real", entry("real"))
    store.put("t.e", "fallback", entry("fallback", preference=1))
    assert store.value("t.e", "v") == "real"
    assert store.value("t.e", "v", asset_key="fallback") == "fallback"


def test_best_prefers_lowest_preference(tmp_path):
    store = MetricsStore(tmp_path / "m.json")
    store.put("t.e", "b-stand-in", entry(2, preference=1))
    assert store.best("t.e")[0] == "b-stand-in"
    store.put("t.e", "z-real", entry(1))
    assert store.best("t.e")[0] == "z-real"


def test_missing_experiment_value_and_asset_name_what_exists(tmp_path):
    store = MetricsStore(tmp_path / "m.json")
    store.put("t.e", "a", entry(1))
    with pytest.raises(MissingMetric, match="run `llmnotes regenerate`"):
        store.value("t.other", "v")
    with pytest.raises(MissingMetric, match=r"has no value .w. \(at .w. it has: v\)"):
        store.value("t.e", "w")
    with pytest.raises(MissingMetric, match=r"no result on 'b' \(it has: a\)"):
        store.value("t.e", "v", asset_key="b")


def test_file_is_valid_sorted_json_with_schema(tmp_path):
    path = tmp_path / "m.json"
    store = MetricsStore(path)
    store.put("b.e", "x", entry(1))
    store.put("a.e", "x", entry(2))
    raw = json.loads(path.read_text())
    assert raw["schema"] == 1
    assert list(raw["experiments"]) == ["a.e", "b.e"]


def test_corrupt_file_gets_a_clear_error_and_is_not_overwritten(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"schema": 1, "experiments": {')
    with pytest.raises(MetricsStoreError, match=r"not valid JSON.*git checkout"):
        MetricsStore(path)
    assert path.read_text() == '{"schema": 1, "experiments": {'


def test_wrong_schema_and_malformed_entries_are_rejected(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"schema": 99, "experiments": {}}')
    with pytest.raises(MetricsStoreError, match="schema-1"):
        MetricsStore(path)
    path.write_text('{"schema": 1, "experiments": {"a.b": {"x": {"nope": 1}}}}')
    with pytest.raises(MetricsStoreError, match="malformed entry"):
        MetricsStore(path)


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(MetricsStoreError, match="No space left on device"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_unwritable_folder_gets_a_clear_error(tmp_path):
    blocker = tmp_path / "generated"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(MetricsStoreError, match=r"cannot write .*make the folder writable"):
        write_atomic(blocker / "metrics.json", b"x")


def test_dotted_paths_reach_nested_values_even_with_dots_in_keys(tmp_path):
    store = MetricsStore(tmp_path / "m.json")
    store.put("t.e", "a", Entry({"grid": {"lr 0.0003": 0.8, "lr 1e-05": 0.6}, "n": {"x": 1}}, {}))
    assert store.value("t.e", "grid.lr 0.0003") == 0.8
    assert store.value("t.e", "n.x") == 1
    with pytest.raises(MissingMetric, match=r"at 'lr 0\.0005' it has: lr 0\.0003, lr 1e-05"):
        store.value("t.e", "grid.lr 0.0005")


def test_integer_segments_index_lists_from_either_end(tmp_path):
    store = MetricsStore(tmp_path / "m.json")
    store.put("t.e", "a", Entry({"lengths": [16, 64, 256], "rows": [{"x": 1}, {"x": 2}]}, {}))
    assert store.value("t.e", "lengths.0") == 16
    assert store.value("t.e", "lengths.-1") == 256
    assert store.value("t.e", "rows.1.x") == 2
    with pytest.raises(MissingMetric, match="indexes a list of 3 with '3'"):
        store.value("t.e", "lengths.3")
    with pytest.raises(MissingMetric, match="with 'last'"):
        store.value("t.e", "lengths.last")


def test_hand_edited_value_is_caught_with_a_way_to_recover(tmp_path):
    path = tmp_path / "m.json"
    MetricsStore(path).put("t.e", "a", entry(0.7839))
    raw = json.loads(path.read_text())
    assert raw["experiments"]["t.e"]["a"]["checksum"]
    raw["experiments"]["t.e"]["a"]["values"]["v"] = 0.99  # a "better" number, typed in
    edited = json.dumps(raw)
    path.write_text(edited)
    with pytest.raises(MetricsStoreError, match=r"t\.e \[a\] was edited by hand.*git checkout"):
        MetricsStore(path)
    assert path.read_text() == edited  # never overwritten


def test_entries_written_before_checksums_still_load_and_gain_one(tmp_path):
    path = tmp_path / "m.json"
    legacy = {"values": {"v": 1}, "provenance": {}, "figures": {}, "preference": 0}
    path.write_text(json.dumps({"schema": 1, "experiments": {"t.e": {"a": legacy}}}))
    store = MetricsStore(path)
    assert store.value("t.e", "v") == 1
    store.put("t.other", "a", entry(2))
    assert json.loads(path.read_text())["experiments"]["t.e"]["a"]["checksum"]
