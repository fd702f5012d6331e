"""Every Python block in ``docs/`` runs, and prints what its ``#>`` lines say.

Run ``pytest tests/test_docs_examples.py --update-examples`` to rewrite the ``#>`` lines from the
real output after an intended change.
"""

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

from conftest import ROOT

EXAMPLES = list(find_examples(str(ROOT / "docs")))


def test_the_docs_have_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_docs_example(example: CodeExample, eval_example: EvalExample):
    if example.prefix_settings().get("test") == "skip":
        pytest.skip('marked test="skip" on the page (needs the network)')
    if "--8<--" in example.source:
        pytest.skip("a snippet include: the included package code is tested by its own tests")
    eval_example.set_config(line_length=100)
    if eval_example.update_examples:
        eval_example.run_print_update(example)
    else:
        eval_example.run_print_check(example)
