import logging
from types import SimpleNamespace

from llmnotes import mkdocs_hooks


def test_hook_logs_missing_metric_as_warning(tmp_path, caplog):
    (tmp_path / "generated").mkdir()
    mkdocs_hooks.on_pre_build({"docs_dir": str(tmp_path)})
    page = SimpleNamespace(file=SimpleNamespace(src_uri="topic/page.md"))
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.llmnotes"):
        mkdocs_hooks.on_page_markdown('{{ metric("a.b", "c") }}', page, {}, None)
    assert "topic/page.md: no stored result for experiment 'a.b'" in caplog.text


def test_hook_strips_settings_and_fills_values(tmp_path):
    from llmnotes.metrics import Entry, MetricsStore

    MetricsStore(tmp_path / "generated" / "metrics.json").put("a.b", "", Entry({"c": 3}, {}))
    mkdocs_hooks.on_pre_build({"docs_dir": str(tmp_path)})
    page = SimpleNamespace(file=SimpleNamespace(src_uri="index.md"))
    out = mkdocs_hooks.on_page_markdown(
        '```python test="skip"\nx\n```\n{{ metric("a.b", "c") }}', page, {}, None
    )
    assert out.startswith("```python\nx\n```\n<span")
    assert ">3</span>" in out
