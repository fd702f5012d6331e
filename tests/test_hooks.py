import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from llmnotes.pipeline import hooks as mkdocs_hooks
from llmnotes.pipeline.pages import UNTESTED_NOTE


def test_hook_logs_missing_metric_as_warning(tmp_path, caplog):
    (tmp_path / "generated").mkdir()
    mkdocs_hooks.on_pre_build({"docs_dir": str(tmp_path)})
    page = SimpleNamespace(
        file=SimpleNamespace(src_uri="topic/page.md"), meta={}, url="topic/page/"
    )
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.llmnotes"):
        mkdocs_hooks.on_page_markdown('{{ metric("a.b", "c") }}', page, {}, None)
    assert "topic/page.md: no stored result for experiment 'a.b'" in caplog.text


def test_hook_strips_settings_and_fills_values(tmp_path):
    from llmnotes.pipeline.metrics import Entry, MetricsStore

    MetricsStore(tmp_path / "generated" / "metrics.json").put("a.b", "", Entry({"c": 3}, {}))
    mkdocs_hooks.on_pre_build({"docs_dir": str(tmp_path)})
    page = SimpleNamespace(file=SimpleNamespace(src_uri="index.md"), meta={}, url="")
    out = mkdocs_hooks.on_page_markdown(
        '```python test="skip"\nx\n```\n{{ metric("a.b", "c") }}', page, {}, None
    )
    assert out.startswith(f"{UNTESTED_NOTE}\n\n```python\nx\n```\n<span")
    assert ">3</span>" in out


def test_topic_page_gets_its_notebook_links_under_the_title(tmp_path):
    (tmp_path / "generated").mkdir()
    mkdocs_hooks.on_pre_build({"docs_dir": str(tmp_path)})
    page = SimpleNamespace(file=SimpleNamespace(src_uri="rnns.md"), meta={}, url="rnns/")
    out = mkdocs_hooks.on_page_markdown("# RNNs\n\nText.\n", page, {}, None)
    title, links, rest = out.split("\n\n", 2)
    assert title == "# RNNs"
    assert 'class="llmnotes-notebook-links"' in links and "../notebooks/rnns/rnns.ipynb" in links
    assert rest.strip() == "Text."
    other = SimpleNamespace(file=SimpleNamespace(src_uri="glossary.md"), meta={}, url="glossary/")
    assert "notebook-links" not in mkdocs_hooks.on_page_markdown("# G\n", other, {}, None)


def test_learning_pages_rank_above_api_pages_and_front_matter_wins(tmp_path):
    (tmp_path / "generated").mkdir()
    mkdocs_hooks.on_pre_build({"docs_dir": str(tmp_path)})
    pages = {
        uri: SimpleNamespace(file=SimpleNamespace(src_uri=uri), meta=meta, url="x/")
        for uri, meta in (("rnns.md", {}), ("reference/llmnotes.bpe.md", {}),
                          ("glossary.md", {"search": {"boost": 5}}))
    }  # fmt: skip
    for page in pages.values():
        mkdocs_hooks.on_page_markdown("# T\n", page, {}, None)
    boosts = {uri: page.meta["search"]["boost"] for uri, page in pages.items()}
    assert boosts["rnns.md"] > 1 > boosts["reference/llmnotes.bpe.md"]
    assert boosts["glossary.md"] == 5


def test_notebook_cache_folder_is_keyed_on_the_code_and_old_ones_pruned(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "llmnotes").mkdir()
    (tmp_path / "llmnotes" / "a.py").write_text("x = 1\n")
    stale = tmp_path / ".cache" / "nb" / "0123456789abcdef"
    stale.mkdir(parents=True)
    kept = tmp_path / ".cache" / "nb" / "not-a-fingerprint"
    kept.mkdir()
    plugin = SimpleNamespace(config={"cache": True, "cache_dir": ".cache/nb"})

    class Config(dict):
        """MkDocs' config: a mapping with the plugins as an attribute."""

    config = Config(config_file_path=str(tmp_path / "mkdocs.yml"))
    config.plugins = {"mkdocs-jupyter": plugin}
    mkdocs_hooks.on_config(config)
    first = Path(plugin.config["cache_dir"])
    assert first.parent == Path(".cache/nb") and len(first.name) == 16
    assert not stale.exists() and kept.exists()
    mkdocs_hooks.on_config(config)  # a live-reload rebuild keeps the same folder
    assert Path(plugin.config["cache_dir"]) == first
    (tmp_path / "llmnotes" / "a.py").write_text("x = 2\n")
    mkdocs_hooks.on_config(config)
    assert Path(plugin.config["cache_dir"]).name != first.name


def test_corrupt_store_stops_the_build_with_the_way_to_recover(tmp_path):
    from mkdocs.exceptions import PluginError

    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "metrics.json").write_text("{ not json")
    with pytest.raises(PluginError, match=r"is not valid JSON.*git checkout"):
        mkdocs_hooks.on_pre_build({"docs_dir": str(tmp_path)})


def test_every_stored_figure_gets_its_dark_version_beside_it(tmp_path):
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import File, Files

    from llmnotes.pipeline.palettes import dark_svg

    svg = tmp_path / "generated" / "figures" / "t.e" / "f.a+b.svg"
    svg.parent.mkdir(parents=True)
    svg.write_bytes(b'<svg><text style="fill: #222222">x</text></svg>')
    (tmp_path / "index.md").write_text("# Hi\n")
    config = MkDocsConfig()
    hooks = [mkdocs_hooks.__file__]  # run as MkDocs runs it: a plugin event
    config.load_dict({"site_name": "t", "docs_dir": str(tmp_path), "hooks": hooks})
    config.validate()
    stored = ("index.md", "generated/figures/t.e/f.a+b.svg")
    files = Files([File(uri, str(tmp_path), str(tmp_path / "site"), True) for uri in stored])
    uris = {f.src_uri: f for f in config.plugins.on_files(files, config=config)}
    dark = uris.pop("generated/figures/t.e/f.a+b.dark.svg")
    assert {u for u in uris if not u.startswith("reference/")} == set(stored)
    assert dark.content_bytes == dark_svg(svg.read_bytes())
