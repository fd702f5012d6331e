import pytest

from llmnotes.assets import Resolved
from llmnotes.experiments import Choice, Context, Result, experiment, load_topics


def make_choice(fingerprint="f1", asset="minilm", preference=0):
    res = Resolved(asset, "package", "somewhere", __import__("pathlib").Path("."), fingerprint)
    return Choice({"model": res}, preference)


@experiment("demo", settings={"n": 3}, seed=7, register=False)
def squares(ctx: Context) -> Result:
    import random

    return Result({"squares": [i * i for i in range(ctx.settings["n"])], "r": random.random()})


def test_name_and_run_are_seeded():
    assert squares.name == "demo.squares"
    first = squares.run(make_choice())
    second = squares.run(make_choice())
    assert first.values == second.values
    assert first.values["squares"] == [0, 1, 4]


def test_input_hash_depends_on_settings_seed_and_assets():
    base = squares.input_hash(make_choice())
    assert base == squares.input_hash(make_choice())
    assert base != squares.input_hash(make_choice(fingerprint="f2"))
    changed = experiment("demo", settings={"n": 4}, register=False)(squares.func)
    assert base != changed.input_hash(make_choice())
    reseeded = experiment("demo", settings={"n": 3}, seed=8, register=False)(squares.func)
    assert base != reseeded.input_hash(make_choice())


def test_choice_key_joins_assets_by_role():
    a = Resolved("a", "path", "", __import__("pathlib").Path("."), "x")
    b = Resolved("b", "path", "", __import__("pathlib").Path("."), "y")
    assert Choice({"z": a, "m": b}, 0).key == "b+a"


def test_choose_takes_first_alternative_that_resolves():
    exp = experiment("demo", assets={"tokenizer": ("bert-base-uncased", "minilm")}, register=False)(
        squares.func
    )
    choice = exp.choose(offline=True)
    assert choice.key == "minilm"
    assert choice.preference == 1
    again = exp.choice_for_key("minilm", offline=True)
    assert again.preference == 1


def test_load_topics_rejects_unknown_topic():
    with pytest.raises(KeyError, match="known topics"):
        load_topics(["astrology"])


def test_load_topics_selects_one_experiment_and_rejects_unknown_ones():
    selected = load_topics(["embeddings.week1_similarity"])
    assert [exp.name for exp in selected] == ["embeddings.week1_similarity"]
    with pytest.raises(KeyError, match=r"embeddings has: .*embeddings\.week1_similarity"):
        load_topics(["embeddings.week2"])


def test_registered_topics_have_their_experiments():
    names = {exp.name for exp in load_topics()}
    assert {
        "tokenization.week1_word_tokens",
        "tokenization.week1_wordpiece",
        "embeddings.week1_similarity",
    } <= names


def test_code_fingerprint_follows_imported_helpers_but_not_the_machinery():
    import inspect
    from pathlib import Path

    from llmnotes.experiments import _package_sources
    from llmnotes.tokenization import wordpiece_parity

    names = {Path(p).name for p in _package_sources(inspect.getsourcefile(wordpiece_parity.func))}
    assert {"tokenization.py", "wordpiece.py", "bpe.py", "corpora.py", "figures.py"} <= names
    assert not names & {"assets.py", "experiments.py", "metrics.py", "regenerate.py"}
