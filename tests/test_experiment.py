import pytest

from llmnotes.pipeline.assets import Resolved
from llmnotes.pipeline.experiment import (
    Choice,
    Context,
    Result,
    experiment,
    load_topics,
    producers_first,
)


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


def test_code_fingerprint_follows_imported_teaching_code_but_not_the_pipeline():
    import inspect
    from pathlib import Path

    from llmnotes.experiments.tokenization import wordpiece_parity
    from llmnotes.pipeline.experiment import _package_sources

    paths = {Path(p) for p in _package_sources(inspect.getsourcefile(wordpiece_parity.func))}
    names = {p.name for p in paths}
    assert {"tokenization.py", "wordpiece.py", "bpe.py", "corpora.py", "figures.py"} <= names
    assert not any("pipeline" in p.parts for p in paths)


def test_only_code_counts_in_the_fingerprint_not_docstrings_or_comments():
    from llmnotes.pipeline.experiment import code_text

    base = (
        '"""Module."""\nimport os\n\n\nclass A:\n    """Doc\n    on two lines."""\n\n'
        '    def f(self):\n        """One."""\n        # a comment\n'
        '        return "# kept"  # cut\n'
    )
    reworded = (
        base.replace("Module.", "Better words.")
        .replace("a comment", "why")
        .replace("# cut", "# because")
    )
    assert code_text(reworded) == code_text(base)
    assert '"# kept"' in code_text(base) and "Doc" not in code_text(base)
    for changed in (base.replace("return", "return 1 +"), base.replace("os", "sys")):
        assert code_text(changed) != code_text(base)
    inline = 'def g(): "not alone on its line"; return 2\n'  # kept: code shares the line
    assert code_text(inline) == inline


def test_producers_run_before_their_consumers_whatever_the_order():
    def make(name, produces=(), consumes=()):
        func = lambda ctx: Result({})  # noqa: E731
        func.__name__ = name
        return experiment("t", assets={"m": consumes} if consumes else None, produces=produces,
                          register=False)(func)  # fmt: skip

    consumer = make("consumer", consumes=("made", "other"))
    producer = make("producer", produces=("made",))
    plain = make("plain")
    ordered = producers_first([consumer, plain, producer])
    assert [e.name for e in ordered] == ["t.plain", "t.producer", "t.consumer"]
    assert producers_first([plain, producer, consumer]) == [plain, producer, consumer]


def test_declared_producers_and_consumers_of_the_site():
    exps = {exp.name: exp for exp in load_topics()}
    assert exps["finetuning.sst2_minilm"].produces == ("minilm-sst2",)
    assert "minilm-sst2" in exps["transformers.sentiment"].consumes
    names = [e.name for e in load_topics(["transformers", "finetuning"])]
    assert names.index("finetuning.sst2_minilm") < names.index("transformers.sentiment")
