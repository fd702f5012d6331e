"""Property tests: random and hostile input to the command line ends in a result or one line.

Every case runs ``llmnotes.cli.main`` in-process with text, words, numbers, paths and file
contents drawn by hypothesis. The property: exit status 0 with output, or status 2 with exactly
one line on standard error that starts ``llmnotes: error:``; never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmnotes.cli import main

FUZZ = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WORDS = st.text(alphabet=string.ascii_letters + "éß漢字-' ", min_size=0, max_size=20)
#: Notes the commands print on success that are not errors (which asset stood in for which).
NOTES = ("offline stand-in", "using ")


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse's own usage errors
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def assert_result_or_one_line(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err
    if code == 0:
        assert out.strip(), "success must print a result"
        return
    lines = [line for line in err.strip().splitlines() if not line.startswith(NOTES)]
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("llmnotes: error: "), err


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LLMNOTES_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@FUZZ
@given(text=st.text(max_size=300), method=st.sampled_from(["bert", "nltk", "bpe"]))
def test_tokenize_any_text(text, method):
    assert_result_or_one_line(*run_cli("tokenize", "--with", method, "--offline", "--", text))


def test_tokenize_a_huge_input():
    text = "Transformers power modern LLMs. " * 40_000  # about 1.3 MB
    code, out, err = run_cli("tokenize", "--offline", "--", text)
    assert_result_or_one_line(code, out, err)
    assert code == 0 and out.count("##ms") >= 40_000


@FUZZ
@given(first=WORDS, second=WORDS, k=st.integers(-3, 50))
def test_vector_commands_any_words(first, second, k):
    assert_result_or_one_line(
        *run_cli("similarity", "--vectors", "minilm", "--offline", "--", first, second)
    )
    assert_result_or_one_line(
        *run_cli("neighbours", "--vectors", "minilm", "-k", str(k), "--offline", "--", first)
    )


@FUZZ
@given(text=st.text(max_size=80), layer=st.integers(-2, 8), head=st.integers(-2, 14))
def test_attention_any_text_layer_and_head(text, layer, head, tmp_path):
    out = tmp_path / "attention.svg"
    args = ["attention", "--layer", str(layer), "--head", str(head), "--out", str(out)]
    assert_result_or_one_line(*run_cli(*args, "--offline", "--", text))


@FUZZ
@given(
    content=st.binary(max_size=400),
    suffix=st.sampled_from([".csv", ".tsv", ".json", ".jsonl", ".parquet", ".txt", ""]),
    column=st.sampled_from(["text", "label", "review", "", "sentence"]),
)
def test_finetune_any_file_contents(content, suffix, column, tmp_path):
    data = tmp_path / f"data{suffix}"
    data.write_bytes(content)
    args = ["finetune", "--train", str(data), "--text-column", column, "--epochs", "1"]
    args += ["--max-length", "8", "--output", str(tmp_path / "out"), "--offline", "--quiet"]
    assert_result_or_one_line(*run_cli(*args))


@FUZZ
@given(name=st.text(alphabet=string.printable, max_size=40))
def test_wrong_paths_and_names(name, tmp_path):
    missing = str(tmp_path / "missing" / name)
    assert_result_or_one_line(*run_cli("sentiment", "--model", missing, "--offline", "--", "good"))
    assert_result_or_one_line(*run_cli("similarity", "--vectors", missing, "--offline", "a", "b"))
    assert_result_or_one_line(*run_cli("regenerate", "--check", "--offline", "--", f"x{name}"))
    assert_result_or_one_line(*run_cli("assets", "--offline", f"--asset={name}={missing}"))


def test_wrong_formats(tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_bytes(b"\x00\xff\xfe garbage\n" * 10)
    assert_result_or_one_line(*run_cli("similarity", "--vectors", str(vectors), "a", "b"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{ broken")
    (folder / "tokenizer.json").write_text("[]")
    code, out, err = run_cli("sentiment", "--model", str(folder), "--offline", "--", "good")
    assert_result_or_one_line(code, out, err)
    assert code == 2
    assert Path(tmp_path).is_dir()
