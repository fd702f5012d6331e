"""Every Python block in ``docs/`` runs, and prints what its ``#>`` lines say.

Run ``pytest tests/test_docs_examples.py --update-examples`` to rewrite the ``#>`` lines from the
real output after an intended change.
"""

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

from llmnotes.pipeline.assets import AssetUnavailable, resolve
from llmnotes.pipeline.notebooks import required_asset, skip_reason

from conftest import ROOT

EXAMPLES = list(find_examples(str(ROOT / "docs")))


def test_the_docs_have_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_docs_example(example: CodeExample, eval_example: EvalExample):
    if reason := skip_reason(example):
        pytest.skip(reason)
    if asset := required_asset(example):
        try:
            resolve(asset, offline=True)
        except AssetUnavailable:
            pytest.skip(f"needs {asset}, not available offline here (`llmnotes assets` says why)")
    eval_example.set_config(line_length=100)
    if eval_example.update_examples:
        eval_example.run_print_update(example)
    else:
        eval_example.run_print_check(example)
