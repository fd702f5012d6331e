import json

import pytest

from llmnotes.pipeline.metrics import (
    Entry,
    MetricsStore,
    MetricsStoreError,
    MissingMetric,
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


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e.update(checksum=None),  # "no checksum": once the way to slip an edit in
        lambda e: e["provenance"].update(input_hash="forged"),
        lambda e: e["figures"].update(f={"path": "generated/figures/x.svg", "alt": "x"}),
        lambda e: e.update(preference=0 if e["preference"] else 1),
    ],
    ids=["null-checksum", "provenance", "figures", "preference"],
)
def test_every_part_of_an_entry_is_covered_by_its_checksum(tmp_path, edit):
    path = tmp_path / "m.json"
    MetricsStore(path).put("t.e", "a", entry(1))
    raw = json.loads(path.read_text())
    edit(raw["experiments"]["t.e"]["a"])
    path.write_text(json.dumps(raw))
    with pytest.raises(MetricsStoreError, match=r"t\.e \[a\] was edited by hand"):
        MetricsStore(path)


def test_the_recovery_advice_works_and_keeps_every_other_entry(tmp_path):
    path = tmp_path / "m.json"
    store = MetricsStore(path)
    store.put("t.edited", "a", entry(1))
    store.put("t.other", "a", entry(2))
    raw = json.loads(path.read_text())
    raw["experiments"]["t.edited"]["a"]["values"]["v"] = 99
    path.write_text(json.dumps(raw))
    with pytest.raises(MetricsStoreError, match="regenerate --force EXPERIMENT"):
        MetricsStore(path)
    lenient = MetricsStore(path, drop_forged=True)  # how regenerate loads it
    assert lenient.forged == ["t.edited [a]"] and lenient.get("t.edited", "a") is None
    lenient.put("t.unrelated", "a", entry(3))
    assert json.loads(path.read_text())["experiments"]["t.edited"]["a"]["values"]["v"] == 99
    lenient.put("t.edited", "a", entry(1))  # the rerun replaces the edited entry
    repaired = MetricsStore(path)
    assert [repaired.value(n, "v") for n in ("t.edited", "t.other", "t.unrelated")] == [1, 2, 3]


def test_stores_loaded_at_the_same_time_keep_each_others_entries(tmp_path):
    path = tmp_path / "m.json"
    MetricsStore(path).put("t.first", "a", entry(0))
    one, two = MetricsStore(path), MetricsStore(path)
    one.put("t.one", "a", entry(1))
    two.put("t.two", "a", entry(2))
    two.put("t.first", "a", entry(5))
    reread = MetricsStore(path)
    assert [reread.value(n, "v") for n in ("t.first", "t.one", "t.two")] == [5, 1, 2]


def _put_many(path, prefix, count):
    store = MetricsStore(path)
    for i in range(count):
        store.put(f"{prefix}.e{i}", "a", entry(i))


def test_concurrent_processes_lose_no_entry(tmp_path):
    import multiprocessing

    path = tmp_path / "m.json"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_put_many, args=(path, p, 15)) for p in ("x", "y", "z")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    stored = MetricsStore(path)
    assert all(stored.get(f"{p}.e{i}", "a") for p in "xyz" for i in range(15))


@pytest.mark.parametrize(
    "content, message",
    [(b"\xff\xfe\x00binary", "not UTF-8"), (b"", "not valid JSON")],
    ids=["binary", "empty"],
)
def test_unreadable_stores_get_one_line(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(MetricsStoreError, match=message):
        MetricsStore(path)


def test_a_store_that_is_not_a_file_is_refused(tmp_path):
    (tmp_path / "m.json").mkdir()
    with pytest.raises(MetricsStoreError, match=r"must be a file.*is a folder"):
        MetricsStore(tmp_path / "m.json")


def test_an_edited_figure_file_is_reported(tmp_path):
    from llmnotes.pipeline.metrics import edited_figures, file_hash

    figure = tmp_path / "generated" / "figures" / "f.svg"
    figure.parent.mkdir(parents=True)
    figure.write_text("<svg/>")
    fig = {"path": "generated/figures/f.svg", "path_sha256": file_hash(figure), "alt": "f"}
    stored = Entry({"v": 1}, {}, {"f": fig})
    assert edited_figures(stored, tmp_path) == []
    figure.write_text("<svg><script>alert(1)</script></svg>")
    assert edited_figures(stored, tmp_path) == ["generated/figures/f.svg"]
