import math

import torch

from llmnotes.char_lm import UNKNOWN, CharModel, CharVocabulary, bits_per_character, generate


def test_vocabulary_maps_rare_characters_to_unknown():
    chars = CharVocabulary.build("aaaaabbbbbc", min_count=5)
    assert chars.chars == UNKNOWN + "ab"
    assert chars.encode("abc").tolist() == [1, 2, 0]
    assert chars.decode([1, 2, 0]) == "ab" + UNKNOWN


def test_untrained_model_is_close_to_uniform():
    torch.manual_seed(0)
    chars = CharVocabulary.build("abcdefgh" * 10, min_count=1)
    model = CharModel("lstm", len(chars.chars), 16)
    bits = bits_per_character(model, chars.encode("abcdefgh" * 20))
    assert abs(bits - math.log2(len(chars.chars))) < 0.5


def test_generation_is_seeded_and_starts_with_the_prompt():
    torch.manual_seed(0)
    chars = CharVocabulary.build("hello world", min_count=1)
    model = CharModel("rnn", len(chars.chars), 8)
    first = generate(model, chars, "he", 10, 1.0, seed=3)
    assert first == generate(model, chars, "he", 10, 1.0, seed=3)
    assert first.startswith("he") and len(first) == 12
