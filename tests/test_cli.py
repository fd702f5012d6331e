import os
import shutil
import subprocess
import sys
import time

import pytest

from llmnotes.cli import UsageError, build_parser, main, parse_asset_overrides

from conftest import ROOT

COMMANDS = ["assets", "regenerate", "build", "serve"]


def llmnotes(*args, env=None, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "llmnotes", *args], capture_output=True, text=True, env=env, **kwargs
    )


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(command):
    result = llmnotes(*([command] if command else []), "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: llmnotes")


def test_assets_offline_lists_every_asset_quickly():
    start = time.perf_counter()
    result = llmnotes("assets", "--offline")
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["asset", "status", "source", "location"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:] if line and line[0] != "("}
    assert rows["minilm"] == "ok"
    assert rows["gensim-test-data"] == "ok"
    assert set(rows) >= {"bert-base-uncased", "glove-wiki-gigaword-50", "sst2", "wikitext2"}
    assert elapsed < 5, f"llmnotes assets --offline took {elapsed:.1f}s"


def test_assets_reports_the_stand_in_of_a_missing_asset(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert main(["assets", "--offline"]) == 0
    line = next(li for li in capsys.readouterr().out.splitlines() if li.startswith("bert-base"))
    assert "missing" in line and "offline stand-in: minilm" in line


def test_asset_override_parsing():
    assert parse_asset_overrides(["minilm=/x"]) == {"minilm": "/x"}
    with pytest.raises(UsageError, match="expects NAME=PATH"):
        parse_asset_overrides(["minilm"])
    with pytest.raises(UsageError, match="unknown asset 'gpt'"):
        parse_asset_overrides(["gpt=/x"])


def test_unknown_topic_is_one_clear_line():
    result = llmnotes("regenerate", "astrology", "--offline")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "llmnotes: error: unknown topic 'astrology'; known topics: tokenization, embeddings"
    ]


@pytest.fixture
def scratch_root(tmp_path):
    """A copy of the site's skeleton whose docs/generated starts empty."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "docs").mkdir()
    return tmp_path


def test_regenerate_then_nothing_to_do(scratch_root, monkeypatch):
    env = {**os.environ, "LLMNOTES_ROOT": str(scratch_root)}
    first = llmnotes("regenerate", "tokenization", "--offline", "--quiet", env=env)
    assert first.returncode == 0, first.stderr
    assert "tokenization.week1_wordpiece    minilm  ran" in first.stdout
    assert "2 ran, 0 unchanged, 0 skipped, 0 failed" in first.stdout
    second = llmnotes("regenerate", "tokenization", "--offline", "--quiet", env=env)
    assert "0 ran, 2 unchanged, 0 skipped, 0 failed" in second.stdout
    assert list((scratch_root / "docs" / "generated" / "figures").rglob("*.svg"))
    check = llmnotes("regenerate", "--check", "--offline", env=env)
    assert check.returncode == 0 and "0 stale entries" in check.stdout


def test_corrupt_metrics_file_is_one_clear_line(scratch_root):
    generated = scratch_root / "docs" / "generated"
    generated.mkdir()
    (generated / "metrics.json").write_text("{ not json")
    env = {**os.environ, "LLMNOTES_ROOT": str(scratch_root)}
    result = llmnotes("regenerate", "--offline", env=env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "is not valid JSON" in line and "git checkout" in line
    assert (generated / "metrics.json").read_text() == "{ not json"


def test_build_without_mkdocs_yml_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLMNOTES_ROOT", str(tmp_path))
    assert main(["build"]) == 2
    assert "no mkdocs.yml" in capsys.readouterr().err


def test_parser_knows_every_command():
    parser = build_parser()
    for command in COMMANDS:
        assert parser.parse_args([command]).command == command
