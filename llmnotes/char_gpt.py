"""A character-level GPT kept on disk: the model's weights, its sizes and its characters together.

The language-models page trains a small :class:`~llmnotes.gpt.GPT` on the characters of
WikiText-2; :func:`save_char_gpt` writes it as a folder (``model.safetensors`` and
``config.json``, no pickle) and :func:`load_char_gpt` reads it back, so ``llmnotes generate``
can write with it.

Examples:
    >>> import tempfile
    >>> from pathlib import Path
    >>> chars = CharVocabulary.build("hello world", min_count=1)
    >>> config = GPTConfig(vocab_size=len(chars.chars), context=16, d_model=8, heads=2, layers=1)
    >>> model = GPT(config)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_char_gpt(model, chars, Path(folder))
    ...     loaded, same_chars = load_char_gpt(Path(folder))
    >>> same_chars == chars, loaded.config.context
    (True, 16)
    >>> unknown_characters(chars, "hello, world!")
    [',', '!']
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from llmnotes.char_lm import UNKNOWN, CharVocabulary
from llmnotes.errors import UserError
from llmnotes.gpt import GPT, GPTConfig

#: What ``config.json`` says a character GPT folder is.
KIND = "llmnotes-char-gpt"


class CharGPTError(UserError, ValueError):
    """A folder that is not a character GPT written by :func:`save_char_gpt`."""


class NotACharGPT(CharGPTError):
    """A folder without a character GPT's ``config.json``: it may hold another kind of model."""


def save_char_gpt(model: GPT, chars: CharVocabulary, folder: Path) -> None:
    """Write ``model`` and its characters to ``folder`` (safetensors weights and JSON)."""
    from safetensors.torch import save_model

    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, str(folder / "model.safetensors"))  # handles the tied embedding
    config = {"kind": KIND, "gpt": dataclasses.asdict(model.config), "chars": chars.chars}
    (folder / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=1) + "\n")


def load_char_gpt(folder: Path) -> tuple[GPT, CharVocabulary]:
    """Read a folder written by :func:`save_char_gpt`; the model comes back in eval mode.

    Raises:
        NotACharGPT: The folder's ``config.json`` is missing or is not a character GPT's.
        CharGPTError: The config says character GPT but the weights or sizes do not load.
    """
    from safetensors.torch import load_model

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NotACharGPT(f"{folder} has no readable config.json: {error}") from None
    if not isinstance(config, dict) or config.get("kind") != KIND:
        raise NotACharGPT(f"{folder} holds a model, but not a character GPT of llmnotes")
    try:
        model = GPT(GPTConfig(**config["gpt"]))
        load_model(model, str(folder / "model.safetensors"))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CharGPTError(f"cannot load a character GPT from {folder}: {reason}") from None
    return model.eval(), CharVocabulary(config["chars"])


def unknown_characters(chars: CharVocabulary, text: str) -> list[str]:
    """The characters of ``text`` that the vocabulary does not know, in order, each once."""
    known = set(chars.chars) - {UNKNOWN}
    return list(dict.fromkeys(c for c in text if c not in known))
