"""No page types a number that data, settings or a model produced: it comes from the store.

The scan reads every page's prose: not code blocks, inline code, math, macros, link targets or
HTML. A numeral left there must be definitional (the allowlist says why) or be the label of a
value that a macro on the same line reads (``**temperature 0.5**: {{ metric(…"temperature
0.5") }}``).
"""

import re

import pytest

from llmnotes.pipeline.paths import docs_dir

#: Numerals that are definitions, names or the goals a page states, by page, with the reason.
DEFINITIONAL = {
    "embeddings.md": {
        "3": "word2vec's 3/4 power of the unigram distribution",
        "4": "word2vec's 3/4 power of the unigram distribution",
        "6": "the name of the GloVe 6B corpus: 6 billion tokens",
        "2.6": "φ² ≈ 2.618, the share (in thresholds) below which subsampling keeps every word",
    },
    "glossary.md": {
        "2": "bits are the logarithm base 2",
        "8": "bf16 and fp32 both have 8 exponent bits: the formats' definition",
        "7": "bf16's 7 stored mantissa bits (and fp32's about 7 significant digits)",
        "23": "fp32's 23 stored mantissa bits",
        "3": "bf16's 2 to 3 significant digits, from its 8-bit significand",
    },
    "math.md": {
        "4": "chapter numbers of a cited book",
        "6": "chapter numbers of a cited book",
    },
    "language-models.md": {
        "1,024": "GPT-2 small's context length, part of its definition",
        "15": "BERT's masking rate, part of its definition (Devlin et al.)",
        "4": "a chapter number of a cited book",
        "5": "a chapter number of a cited book",
    },
    "performance.md": {
        "2": "Kaplan et al.'s count: 2 operations per parameter forward",
        "4": "and 4 backward",
        "6": "6 in all",
        "15": "the goal the project set for a no-op rebuild (seconds)",
        "600": "the goal the project set for a packaged regeneration (seconds)",
        "8": "bf16 and fp32 both have 8 exponent bits: the formats' definition",
        "7": "bf16's 7 stored mantissa bits (and fp32's about 7 significant digits)",
        "23": "fp32's 23 stored mantissa bits",
        "3": "bf16's 2 to 3 significant digits, from its 8-bit significand",
        "0.4": "2⁻⁸, bf16's rounding error bound, as a percentage",
        "50": "LengthGroupedSampler's block of 50 batches, fixed in transformers' code",
    },
    "rnns.md": {
        "6": "the adding problem's trivial error, 1/6, by definition of the task",
        "0.167": "1/6 to three decimals",
        "0.5": "the sigmoid of 0",
        "4": "a section number of a cited paper",
    },
    "tokenization.md": {
        "256": "a byte has 256 values",
        "100": "the id of [UNK] in BERT's vocabulary",
        "101": "the id of [CLS] in BERT's vocabulary",
        "102": "the id of [SEP] in BERT's vocabulary",
        "1,024": "the number of merges exercise 4 asks for (its setting)",
    },
    "finetuning.md": {"4": "a section number of a cited paper"},
    "transformers.md": {
        "2": "doubling the length of a linear cost multiplies it by 2",
        "4": "doubling the length of a quadratic cost multiplies it by 4",
    },
}
#: 0 and 1 are bounds and identities everywhere (cosine 1, mask 0, temperature 1).
EVERYWHERE = {"0", "1"}

MACRO = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
NUMERAL = re.compile(r"(?<![\w.\-–/])\d[\d,]*(?:\.\d+)?(?![\w\-/])|(?<=/)\d+")
YEAR = re.compile(r"(19|20)\d\d")
NAMES = re.compile(r"\b[Ww]eek[ -]1\b|\b(?:section|Table|chapters?|Exercise) [\d–-]+")


def prose_lines(text: str):
    """(line number, prose, numerals the line's macros mention) for each line outside code."""
    text = re.sub(r"\A---\n.*?\n---\n", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    text = re.sub(
        r"<!--.*?-->|\$\$.*?\$\$", lambda m: "\n" * m.group().count("\n"), text, flags=re.S
    )
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        marker = re.match(r"\s*(`{3,}|~{3,})", line)
        if marker:
            if fence is None:
                fence = marker.group(1)
            elif marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
            continue
        if fence is not None:
            continue
        bound = {n for macro in MACRO.findall(line) for n in NUMERAL.findall(macro)}
        line = MACRO.sub(" ", line)
        for pattern in (r"\$[^$]+\$", r"`[^`]+`", r"\]\([^)]*\)", r"\]\[[^\]]*\]", r"<[^>]+>"):
            line = re.sub(pattern, " ", line)
        line = re.sub(r"https?://\S+|^\s*\d+\.\s", " ", NAMES.sub(" ", line))
        yield number, line, bound


def typed_numbers(page: str, text: str) -> list[tuple[int, str, str]]:
    """(line, numeral, prose) for each numeral that is neither definitional nor from the store."""
    allowed = EVERYWHERE | set(DEFINITIONAL.get(page, {}))
    found = []
    for number, line, bound in prose_lines(text):
        for numeral in NUMERAL.findall(line):
            numeral = numeral.rstrip(",.")
            if numeral in allowed or numeral in bound or YEAR.fullmatch(numeral):
                continue
            found.append((number, numeral, line.strip()))
    return found


def test_the_scan_finds_a_typed_number_and_skips_code_math_and_macros():
    text = (
        "Trained on 6,920 sentences.\n"
        "```python\nprint(6920)\n```\n"
        'It reached {{ metric("e", "acc") }} with `batch=32` and $d^2$ at week 1.\n'
        '- **top-k 5**: {{ metric("e", "samples.top-k 5") }} (Vaswani et al., 2017)\n'
    )
    assert [numeral for _, numeral, _ in typed_numbers("x.md", text)] == ["6,920"]


@pytest.mark.parametrize("page", sorted(p.name for p in docs_dir().glob("*.md")))
def test_no_page_types_a_measured_number(page):
    hits = typed_numbers(page, (docs_dir() / page).read_text(encoding="utf-8"))
    listed = "\n".join(
        f"{page}:{line}: {numeral} in {prose[:90]!r}" for line, numeral, prose in hits
    )
    assert not hits, f"bind these to the store (metric, setting, week1, published):\n{listed}"
