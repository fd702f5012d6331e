import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from llmnotes.cli import UsageError, build_parser, command_names, main, parse_asset_overrides
from llmnotes.pipeline.experiment import topics
from llmnotes.pipeline.files import FileProblem
from llmnotes.pipeline.metrics import MetricsStore, MetricsStoreError

from conftest import ROOT, SHARED_DATA, needs_shared_data

COMMANDS = command_names()


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


def test_asset_override_parsing(tmp_path):
    assert parse_asset_overrides([f"minilm={tmp_path}"]) == {"minilm": str(tmp_path)}
    with pytest.raises(FileProblem, match="no such file or folder: /nonexistent"):
        parse_asset_overrides(["wikitext2=/nonexistent"])
    with pytest.raises(FileProblem, match="character device"):
        parse_asset_overrides(["wikitext2=/dev/zero"])
    with pytest.raises(UsageError, match="expects NAME=PATH"):
        parse_asset_overrides(["minilm"])
    with pytest.raises(UsageError, match="unknown asset 'gpt'"):
        parse_asset_overrides(["gpt=/x"])


def test_unknown_topic_is_one_clear_line():
    result = llmnotes("regenerate", "astrology", "--offline")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"llmnotes: error: unknown topic 'astrology'; known topics: {', '.join(topics())}"
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
    rows = {line.split()[0]: line.split()[1:3] for line in first.stdout.splitlines()[1:] if line}
    assert rows["tokenization.week1_wordpiece"] == ["minilm", "ran"]
    # Without a shared data folder the corpus experiments fall back to gensim's shipped texts.
    assert rows["tokenization.bpe_vocab_sweep"] == ["gensim-test-data", "ran"]
    ran = sum(status == "ran" for _, status in (r for r in rows.values() if len(r) == 2))
    assert f"{ran} ran, 0 unchanged, 0 skipped, 0 failed" in first.stdout
    second = llmnotes("regenerate", "tokenization", "--offline", "--quiet", env=env)
    assert f"0 ran, {ran} unchanged, 0 skipped, 0 failed" in second.stdout
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
    required = {
        "tokenize": ["some text"], "similarity": ["a", "b"], "neighbours": ["a"],
        "finetune": ["--train", "x.csv", "--output", "out"], "sentiment": ["x"],
        "attention": ["x", "--layer", "0", "--out", "a.svg"], "generate": ["The"],
        "evaluate": ["--model", "out", "--test", "x.csv"],
    }  # fmt: skip
    assert set(required) <= set(COMMANDS)
    assert {"assets", "regenerate", "build", "serve", "notebooks"} <= set(COMMANDS)
    for command in COMMANDS:
        args = [command, *required.get(command, [])]
        assert parser.parse_args(args).command == command


def test_tokenize_prints_the_week1_ids_offline():
    result = llmnotes(
        "tokenize", "--with", "bert", "Transformers power modern LLMs", "--ids", "--offline"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "tokens: ['[CLS]', 'transformers', 'power', 'modern', 'll', '##ms', '[SEP]']",
        "ids:    [101, 19081, 2373, 2715, 2222, 5244, 102]",
    ]
    assert "offline stand-in for bert-base-uncased" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--with", "gpt", "x"], "unknown tokenizer 'gpt'"),
        (["--with", "nltk", "--ids", "x"], "NLTK word tokens have no ids"),
        ([""], "nothing to tokenize"),
        ([b"caf\xff".decode("utf-8", "surrogateescape")], "not valid UTF-8"),
    ],
)
def test_tokenize_bad_input_is_one_clear_line(args, message, tmp_path):
    env = {**os.environ, "LLMNOTES_CACHE_DIR": str(tmp_path)}
    result = llmnotes("tokenize", *args, "--offline", env=env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("llmnotes: error: ") and message in line


@needs_shared_data
def test_similarity_king_queen_on_the_glove_file():
    glove = SHARED_DATA / "glove" / "glove.6B.50d.top10k.txt"
    result = llmnotes("similarity", "king", "queen", "--vectors", str(glove), "--offline")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.7839"


def test_similarity_offline_stand_in_and_neighbours(tmp_path):
    env = {**os.environ, "LLMNOTES_DATA_DIR": str(tmp_path), "GENSIM_DATA_DIR": str(tmp_path)}
    result = llmnotes("similarity", "king", "queen", "--offline", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.6273"
    assert "offline stand-in for GloVe" in result.stderr
    result = llmnotes("neighbours", "king", "-k", "3", "--vectors", "minilm", "--offline")
    assert result.stdout.splitlines()[0].split() == ["word", "cosine"]
    assert len(result.stdout.splitlines()) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["similarity", "king", "qeeen", "--vectors", "minilm"],
            "'qeeen' is not in the vocabulary",
        ),
        (["neighbours", "zzxqv", "--vectors", "minilm"], "'zzxqv' is not in the vocabulary"),
        (["similarity", "a", "b", "--vectors", "README.md"], "not a vectors text file"),
        (["similarity", "a", "b", "--vectors", "/no/such/file"], "no such vectors file or asset"),
    ],
)
def test_vector_commands_bad_input_is_one_clear_line(args, message):
    result = llmnotes(*args, "--offline", cwd=ROOT)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert message in line


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: ["--train", str(d / "missing.csv")], "no such file or folder"),
        (lambda d: ["--train", str(d / "one.csv")], "single class"),
        (
            lambda d: ["--train", str(d / "one.csv"), "--text-column", "body"],
            "its columns are: text, label",
        ),
        (lambda d: ["--train", str(d / "two.csv"), "--model", str(d)], "has no tokenizer"),
    ],
)
def test_finetune_bad_input_is_one_clear_line(tmp_path, make, message):
    (tmp_path / "one.csv").write_text("text,label\ngood,pos\nfine,pos\n")
    (tmp_path / "two.csv").write_text("text,label\ngood,pos\nnice,pos\nbad,neg\nawful,neg\n")
    (tmp_path / "config.json").write_text("{}")
    result = llmnotes("finetune", *make(tmp_path), "--output", str(tmp_path / "out"), "--offline")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("llmnotes: error: ") and message in line


def test_attention_writes_a_heatmap(tmp_path):
    out = tmp_path / "a.svg"
    result = llmnotes(
        "attention", "The cat sat.", "--layer", "3", "--head", "1", "--out", str(out), "--offline"
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"<?xml")
    bad = llmnotes("attention", "x", "--layer", "9", "--out", str(out), "--offline")
    assert bad.returncode == 2 and "--layer must be between 0 and 5" in bad.stderr


@pytest.mark.parametrize("shared", [True, False], ids=["with-sst2", "without-sst2"])
def test_sentiment_without_a_classifier_names_only_what_works_here(tmp_path, shared):
    if shared and not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent: SST-2 cannot resolve")
    env = {**os.environ, "LLMNOTES_CACHE_DIR": str(tmp_path), "HF_HUB_CACHE": str(tmp_path)}
    if not shared:
        env["LLMNOTES_DATA_DIR"] = str(tmp_path / "no-shared-data")
    result = llmnotes("sentiment", "I love learning about LLMs", "--offline", env=env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    if shared:
        assert "llmnotes regenerate finetuning" in line
    else:
        assert "regenerate finetuning" not in line, "it would skip here"
        assert "llmnotes finetune --train pang-lee" in line
        assert "run without --offline" in line and "% accuracy on them" in line


@pytest.mark.parametrize(
    "failure, message",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
        (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
    ],
)
def test_full_disk_or_read_only_docs_is_one_clear_line(
    scratch_root, monkeypatch, capsys, failure, message
):
    generated = scratch_root / "docs" / "generated"
    generated.mkdir()
    before = '{"experiments": {}, "schema": 1}\n'
    (generated / "metrics.json").write_text(before)
    monkeypatch.setenv("LLMNOTES_ROOT", str(scratch_root))

    def refuse(*args, **kwargs):
        raise failure

    monkeypatch.setattr("llmnotes.pipeline.files.os.replace", refuse)
    code = main(["regenerate", "tokenization.week1_word_tokens", "--offline", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    [line] = err.strip().splitlines()
    assert message in line and "make the folder writable" in line
    assert (generated / "metrics.json").read_text() == before
    assert not list(generated.rglob("*.tmp"))


def test_site_commands_without_the_site_extra_name_it(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mkdocs" else real(name, *a)
    )
    assert main(["build"]) == 2
    assert "pip install -e '.[site]'" in capsys.readouterr().err


def test_build_is_skipped_while_nothing_it_reads_changed(tmp_path, monkeypatch, capsys):
    import llmnotes.cli as cli

    builds = []
    monkeypatch.setattr(cli, "_mkdocs", lambda *args: builds.append(args) or 0)
    site = tmp_path / "site"
    site.mkdir()
    assert main(["build", "--site-dir", str(site)]) == 0
    assert main(["build", "--site-dir", str(site)]) == 0
    assert "up to date" in capsys.readouterr().out and len(builds) == 1
    assert main(["build", "--site-dir", str(site), "--no-strict"]) == 0  # other settings
    assert main(["build", "--site-dir", str(site), "--force"]) == 0
    assert len(builds) == 3


def test_a_hand_edited_store_is_reported_then_repaired_keeping_the_rest(scratch_root):
    env = {**os.environ, "LLMNOTES_ROOT": str(scratch_root)}
    exps = ["tokenization.week1_word_tokens", "tokenization.week1_wordpiece"]
    assert llmnotes("regenerate", *exps, "--offline", "--quiet", env=env).returncode == 0
    path = scratch_root / "docs" / "generated" / "metrics.json"
    raw = json.loads(path.read_text())
    [(key, edited)] = raw["experiments"][exps[0]].items()
    edited["checksum"] = None
    edited["provenance"]["assets"] = {"x": {"asset": "<img src=x onerror=alert(1)>"}}
    path.write_text(json.dumps(raw))
    check = llmnotes("regenerate", "--check", "--offline", env=env)
    assert check.returncode == 1
    assert f"stale: {exps[0]} [{key}]: edited by hand" in check.stdout
    with pytest.raises(MetricsStoreError, match="regenerate --force EXPERIMENT"):
        MetricsStore(path)
    repair = llmnotes("regenerate", "--force", exps[0], "--offline", "--quiet", env=env)
    assert repair.returncode == 0 and f"set aside {exps[0]} [{key}]" in repair.stderr
    store = MetricsStore(path)
    assert store.get(exps[0], key).provenance["assets"] != edited["provenance"]["assets"]
    assert store.entries(exps[1])


def test_interrupting_a_command_says_what_was_kept(monkeypatch, capsys):
    import llmnotes.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_regenerate", interrupted)
    assert main(["regenerate", "--offline"]) == 130
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("llmnotes: interrupted; every experiment that finished")


def test_a_failed_build_keeps_the_last_good_site(tmp_path, monkeypatch, capsys):
    import llmnotes.cli as cli

    site = tmp_path / "site"
    site.mkdir()
    (site / cli.BUILD_STAMP).write_text("an earlier build")
    (site / "index.html").write_text("good")
    monkeypatch.setattr(cli, "_mkdocs", lambda *args: 1)
    assert main(["build", "--site-dir", str(site)]) == 1
    assert (site / "index.html").read_text() == "good"
    assert "previous site" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"], "no half-built folder left"


def test_a_site_dir_holding_other_files_is_refused(tmp_path, monkeypatch):
    import llmnotes.cli as cli

    monkeypatch.setattr(cli, "_mkdocs", lambda *args: pytest.fail("must not build"))
    (tmp_path / "thesis.tex").write_text("mine")
    with pytest.raises(UsageError, match="not an llmnotes build"):
        cli.cmd_build(build_parser().parse_args(["build", "--site-dir", str(tmp_path)]))
    with pytest.raises(FileProblem, match=r"inside .*docs, the site's sources"):
        cli.cmd_build(build_parser().parse_args(["build", "--site-dir", str(ROOT / "docs")]))
    assert (tmp_path / "thesis.tex").read_text() == "mine"


@pytest.mark.parametrize("flag", ["--out", "--output"])
def test_outputs_inside_the_site_are_refused(flag, tmp_path):
    command = (
        ["attention", "hi", "--layer", "0", "--out", "docs/generated/metrics.json"]
        if flag == "--out"
        else ["finetune", "--train", "sst2", "--output", "docs/generated"]
    )
    before = (ROOT / "docs" / "generated" / "metrics.json").read_bytes()
    result = llmnotes(*command, "--offline", cwd=ROOT)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "published as the site" in line
    assert (ROOT / "docs" / "generated" / "metrics.json").read_bytes() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_given_as_output_is_never_replaced(tmp_path):
    node = tmp_path / "mynull"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    result = llmnotes("attention", "hi there", "--layer", "0", "--out", str(node), "--offline")
    assert result.returncode == 2 and "character device" in result.stderr
    assert stat.S_ISCHR(node.lstat().st_mode)


def test_an_encoder_without_a_classification_head_is_refused():
    result = llmnotes("sentiment", "good", "--model", "minilm", "--offline")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "without a classification head (BertModel)" in line


def test_a_corrupt_bpe_cache_is_rebuilt_and_an_unwritable_one_noted(tmp_path):
    env = {**os.environ, "LLMNOTES_CACHE_DIR": str(tmp_path / "cache")}
    first = llmnotes("tokenize", "--with", "bpe", "--offline", "hello", env=env)
    assert first.returncode == 0
    [cached] = (tmp_path / "cache" / "bpe").glob("*.json")
    cached.write_text('{"merges": [[1, ')  # a disk full while it was written
    again = llmnotes("tokenize", "--with", "bpe", "--offline", "hello", env=env)
    assert again.returncode == 0 and again.stdout == first.stdout
    assert "unreadable; trained it again" in again.stderr
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    env["LLMNOTES_CACHE_DIR"] = str(blocked)
    third = llmnotes("tokenize", "--with", "bpe", "--offline", "hello", env=env)
    assert third.returncode == 0 and third.stdout == first.stdout
    assert "was not cached" in third.stderr


def test_quiet_fine_tuning_prints_the_table_and_no_log_dictionaries(tmp_path):
    rows = [f"{word} film,{label}" for word, label in [("good", 1), ("bad", 0)] * 6]
    (tmp_path / "d.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    result = llmnotes(
        "finetune", "--train", str(tmp_path / "d.csv"), "--output", str(tmp_path / "out"),
        "--epochs", "1", "--max-length", "8", "--quiet", "--offline",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "{'" not in result.stdout and "'eval_loss'" not in result.stderr
    assert result.stdout.startswith("split ")
    assert not (tmp_path / "out" / "checkpoints").exists()


@pytest.fixture(scope="module")
def random_classifier(tmp_path_factory):
    """A small BERT classifier with random weights and MiniLM's tokenizer, saved (no training)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from llmnotes.pipeline.assets import resolve

    folder = tmp_path_factory.mktemp("random-classifier")
    tokenizer = AutoTokenizer.from_pretrained(str(resolve("minilm", offline=True).path))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=32, num_labels=2,
        id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1},
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_sentiment_file_writes_one_line_per_text_in_either_format(random_classifier, tmp_path):
    texts = ["a fine film", "dull\tand long", "superb"]
    lines = tmp_path / "texts.txt"
    lines.write_text("\n".join(texts[:2]) + "\n\n" + texts[2] + "\n")
    table = tmp_path / "texts.csv"
    table.write_text("id,review\n" + "".join(f'{i},"{t}"\n' for i, t in enumerate(texts)))
    model = ["--model", str(random_classifier), "--offline", "--quiet"]
    tsv = llmnotes("sentiment", "--file", str(lines), "--batch-size", "2", *model)
    assert tsv.returncode == 0, tsv.stderr
    rows = [line.split("\t") for line in tsv.stdout.splitlines()]
    assert [r[2] for r in rows] == ["a fine film", "dull and long", "superb"]
    assert all(r[0] in {"neg", "pos"} and 0 < float(r[1]) <= 1 for r in rows)
    jsonl = llmnotes(
        "sentiment", "--file", str(table), "--text-column", "review", "--format", "jsonl", *model
    )
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["text"] for r in records] == texts
    assert [r["label"] for r in records] == [r[0] for r in rows], "batching changes nothing"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: ["--file", str(d / "texts.csv"), "--text-column", "body"],
         "has no column 'body'; its columns are: id, review"),
        (lambda d: ["--file", str(d / "empty.txt")], "holds no text to classify"),
        (lambda d: ["--file", str(d / "texts.csv"), "words"], "one of the two"),
        (lambda d: ["words", "--text-column", "review"], "--text-column names a column"),
    ],
)  # fmt: skip
def test_sentiment_file_bad_input_is_one_line(random_classifier, tmp_path, make, message):
    (tmp_path / "texts.csv").write_text("id,review\n1,good\n")
    (tmp_path / "empty.txt").write_text("\n\n")
    result = llmnotes("sentiment", *make(tmp_path), "--model", str(random_classifier), "--offline")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert message in line
