from llmnotes.pipeline import paths


def test_repo_root_holds_mkdocs_yml():
    assert (paths.repo_root() / "mkdocs.yml").is_file()
    assert paths.metrics_path() == paths.repo_root() / "docs" / "generated" / "metrics.json"


def test_overrides_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMNOTES_ROOT", str(tmp_path))
    monkeypatch.setenv("LLMNOTES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LLMNOTES_DATA_DIR", str(tmp_path))
    assert paths.docs_dir() == tmp_path / "docs"
    assert paths.cache_dir() == tmp_path / "cache"
    assert paths.shared_data_dir() == tmp_path
    monkeypatch.setenv("LLMNOTES_DATA_DIR", str(tmp_path / "missing"))
    assert paths.shared_data_dir() is None
