import pytest

from llmnotes.char_gpt import save_char_gpt
from llmnotes.char_lm import CharVocabulary
from llmnotes.cli import main
from llmnotes.decoding import SamplingSettings
from llmnotes.gpt import GPT, GPTConfig
from llmnotes.pipeline.generation import continue_prompt


@pytest.fixture
def char_gpt_cache(tmp_path, monkeypatch):
    """A tiny untrained character GPT where the char-gpt asset is looked for."""
    monkeypatch.setenv("LLMNOTES_CACHE_DIR", str(tmp_path))
    chars = CharVocabulary.build("The cat sat on the mat. ", min_count=1)
    model = GPT(GPTConfig(vocab_size=len(chars.chars), context=24, d_model=16, heads=2, layers=1))
    save_char_gpt(model, chars, tmp_path / "models" / "char-gpt")
    return chars


def test_generate_continues_a_prompt_with_and_without_the_cache(char_gpt_cache):
    settings = SamplingSettings(temperature=0.8, max_new_tokens=10)
    cached = continue_prompt("The cat", settings, seed=1)
    plain = continue_prompt("The cat", settings, seed=1, use_cache=False)
    assert cached.text == plain.text and cached.text.startswith("The cat")
    assert len(cached.text) == 17 and cached.new_tokens == 10 and cached.cache


def test_generate_prints_text_then_speed(char_gpt_cache, capsys):
    assert main(["generate", "The", "--max-new-tokens", "5", "--temperature", "0"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("The") and "tokens/s, with the KV cache; char-gpt" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["  "], "the prompt is empty"),
        (["The €uro"], "does not know '€'"),
        (["The", "--temperature", "-1"], "temperature must be a finite number > 0"),
        (["The", "--temperature", "nan"], "temperature must be a finite number > 0"),
        (["The", "--top-k", "0"], "argument --top-k: '0' is not a whole number from 1"),
        (["The", "--top-p", "0"], r"top_p must be in \(0, 1\]"),
        (["The", "--top-p", "1.5"], r"top_p must be in \(0, 1\]"),
        (["The", "--max-new-tokens", "40"], "reads at most 24 characters.*--max-new-tokens 21"),
        (["The", "--model", "/no/such/folder"], "no such model folder"),
    ],
)
def test_generate_bad_input_is_one_clear_line(char_gpt_cache, capsys, args, message):
    import re

    assert main(["generate", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("llmnotes: error: ") and err.count("\n") == 1
    assert re.search(message, err), err


def test_generate_without_the_model_names_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLMNOTES_CACHE_DIR", str(tmp_path / "empty"))
    assert main(["generate", "The"]) == 2
    assert "llmnotes regenerate language-models" in capsys.readouterr().err


def test_a_damaged_char_gpt_and_another_models_folder_are_told_apart(
    char_gpt_cache, tmp_path, capsys
):
    folder = tmp_path / "models" / "char-gpt"
    (folder / "model.safetensors").unlink()
    assert main(["generate", "The", "--model", str(folder)]) == 2
    assert "cannot load a character GPT from" in capsys.readouterr().err
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "gpt2"}')  # no weights, no tokenizer
    assert main(["generate", "The", "--model", str(other)]) == 2
    assert "as a causal language model" in capsys.readouterr().err
