from llmnotes.pipeline.verified import (
    RUNS_FILE,
    ResultStatus,
    Verified,
    code_status,
    page_source,
    read_runs,
    record_runs,
    render,
    result_status,
)

from conftest import ROOT


def test_a_run_records_how_long_each_block_of_a_page_took_by_its_fence_line(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("```python\nprint(1)\n```\n")
    record_runs(tmp_path, {"docs/a.md": ["passed"]}, "now", {"docs/a.md": {1: 3.14159}})
    assert read_runs(tmp_path)["docs/a.md"]["seconds"] == {"1": 3.14}


def test_a_run_is_recorded_per_file_with_its_hash_and_kept_for_files_it_did_not_touch(tmp_path):
    (tmp_path / "docs").mkdir()
    page, other = tmp_path / "docs" / "a.md", tmp_path / "docs" / "b.md"
    page.write_text("```python\nprint(1)\n```\n")
    other.write_text("```python\nprint(2)\n```\n")
    record_runs(tmp_path, {"docs/b.md": ["passed"]}, "earlier")
    outcomes = ["passed", "passed", "skipped: needs the network", "skipped: needs the network"]
    record_runs(tmp_path, {"docs/a.md": outcomes}, "now")
    runs = read_runs(tmp_path)
    assert runs["docs/b.md"]["date"] == "earlier"
    assert runs["docs/a.md"] | {"sha": "?"} == {
        "sha": "?", "date": "now", "passed": 2, "failed": 0, "skipped": 2,
        "skip_reasons": {"needs the network": 2},
    }  # fmt: skip
    ok, sentence = code_status(tmp_path, "docs/a.md", runs)
    assert ok
    assert sentence == (
        "Its 2 code blocks ran and printed what the page shows; 2 not run: needs the network "
        "(test run of now)."
    )


def test_code_is_verified_only_for_the_version_of_the_page_that_ran(tmp_path):
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "a.md"
    page.write_text("one")
    assert code_status(tmp_path, "docs/a.md", {})[0] is False  # no test run here yet
    assert "no test run recorded" in code_status(tmp_path, "docs/a.md", {})[1]
    record_runs(tmp_path, {"docs/a.md": ["passed", "failed"]}, "then")
    assert code_status(tmp_path, "docs/a.md", read_runs(tmp_path)) == (
        False, "1 of its code blocks failed in the test run of then."
    )  # fmt: skip
    page.write_text("two")
    ok, sentence = code_status(tmp_path, "docs/a.md", read_runs(tmp_path))
    assert not ok and sentence.startswith("It changed after its code blocks last ran (then)")
    (tmp_path / RUNS_FILE).write_text("{not json")
    assert read_runs(tmp_path) == {}


def test_the_file_behind_each_kind_of_page():
    docs = ROOT / "docs"
    assert page_source("tokenization.md", "# T\n```python\nx\n```", docs) == "docs/tokenization.md"
    assert page_source("glossary.md", "# Glossary\n", docs) is None
    assert page_source("reference/bpe.md", "::: llmnotes.bpe\n", docs) == "llmnotes/bpe.py"
    assert page_source("reference/week1.md", "::: llmnotes.week1\n", docs) is None  # no >>>
    assert code_status(ROOT, "docs/notebooks/rnns.ipynb", {})[0] is True  # ran at build


def test_a_stored_result_is_fresh_only_while_its_code_is_unchanged():
    from llmnotes.pipeline.metrics import MetricsStore

    store = MetricsStore(ROOT / "docs" / "generated" / "metrics.json")
    name = "rnns.lstm_diagram"  # no assets: its freshness is checkable anywhere
    key, entry = store.best(name)
    assert result_status(name, key, entry, ROOT / "docs").fresh is True
    entry.provenance = {**entry.provenance, "code_hash": "0" * 16}
    assert result_status(name, key, entry, ROOT / "docs").fresh is False
    assert result_status("gone.experiment", key, entry, ROOT / "docs").fresh is False


def test_the_box_says_verified_only_when_every_check_passed():
    versions = {"python": "3.11.7", "torch": "2.13.0"}
    shown = [ResultStatus("t.e", "minilm", True, stand_in="bert-base")]
    good = Verified("2026-12-02 10:00 UTC", "a" * 40, versions, shown, True, "Ran.")
    box = render(good)
    assert box.startswith('<details class="success llmnotes-verified"><summary>Verified at build')
    assert "1 of 1 results fresh, 1 on an offline stand-in, code ran" in box
    assert "commit <code>aaaaaaaaaa</code> with python 3.11.7, torch 2.13.0" in box
    assert "an offline stand-in for <code>bert-base</code>" in box
    stale = Verified("now", None, versions, [ResultStatus("t.e", "x", False)], True, "Ran.")
    box = render(stale)
    assert box.startswith('<details class="warning') and "Not fully verified" in box
    assert "rerun <code>llmnotes regenerate t.e</code>" in box
    assert render(Verified("now", None, {}, [], False, "No run.")).count("warning") == 1


def test_a_build_from_a_changed_checkout_says_so():
    build = Verified("now", "b" * 40, {}, [ResultStatus("t.e", "x", None)], True, "Ran.")
    assert "with uncommitted changes" not in render(build)
    assert "1 with unchanged code (assets not here)" in render(build)
    build.dirty = True
    assert "commit <code>bbbbbbbbbb</code> with uncommitted changes" in render(build)
