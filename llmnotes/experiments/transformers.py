"""The experiments of the transformers page.

Our encoder against MiniLM layer by layer, attention maps of one sentence, the cost of attention
against sequence length, and sentiment analysis with the week-1 pipeline or our own classifier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from llmnotes import week1
from llmnotes.attention import BertEncoder, scaled_dot_product_attention
from llmnotes.charts import attention_chart
from llmnotes.corpora import pang_lee_sentences
from llmnotes.figures import PALETTE, new_figure
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, SpeedRow, experiment
from llmnotes.timing import fastest

#: A sentence whose pronoun has to be resolved ("it" is the animal).
PRONOUN_SENTENCE = "The animal didn't cross the street because it was too tired."
#: Sentences a sentiment classifier tends to get wrong.
HARD_CASES = {
    "negation": "This movie is not good at all.",
    "double negation": "I can't say I didn't enjoy it.",
    "sarcasm": "Oh great, another three-hour meeting.",
    "mixed": "The acting was brilliant but the plot was a mess.",
}


def encode(tokenizer: Any, text: str) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Tensors for one text, and its tokens (special tokens included)."""
    batch = tokenizer(text, return_tensors="pt")
    return batch, tokenizer.convert_ids_to_tokens(batch["input_ids"][0])


def attention_heatmap(weights: np.ndarray, tokens: list[str], title: str) -> Any:
    """A heat map of one head's attention weights (rows attend to columns), with a colour bar."""
    fig, ax = new_figure(figsize=(5.8, 5.0))
    image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=max(float(weights.max()), 1e-6))
    ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
    ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
    ax.set_xlabel("attends to (key)")
    ax.set_ylabel("token (query)")
    ax.grid(False)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
    return fig


def attention_grid(weights: np.ndarray, title: str) -> Any:
    """Every head of one layer (``weights``: heads × tokens × tokens) on one colour scale.

    The maps are too small for token labels: their rows and columns are in the order of the
    single-head map's. One colour bar serves all, so heads can be compared.
    """
    heads = weights.shape[0]
    columns = 4 if heads % 4 == 0 else heads
    fig, axes = new_figure(heads // columns, columns, figsize=(9.0, 7.2), squeeze=False)
    top = max(float(weights.max()), 1e-6)
    image = None
    for head, ax in enumerate(axes.flat):
        image = ax.imshow(weights[head], cmap="viridis", vmin=0, vmax=top)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"head {head}", fontsize=11)
    fig.colorbar(image, ax=axes, shrink=0.7, label="attention weight")
    fig.suptitle(title, fontweight="bold")
    return fig


@experiment("transformers", assets={"model": ("minilm",), "data": ("gensim-test-data",)})
def encoder_parity(ctx: Context) -> Result:
    """Largest difference between our encoder and Hugging Face's, per layer, on 200 texts."""
    from transformers import AutoModel, AutoTokenizer

    path = ctx.assets["model"].path
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    reference = AutoModel.from_pretrained(
        str(path), attn_implementation="eager", use_safetensors=True
    ).eval()
    ours = BertEncoder.from_pretrained(path)
    sentences = pang_lee_sentences(ctx.assets["data"].path)
    worst = np.zeros(len(ours.layers) + 1)
    with torch.no_grad():
        for start in range(0, len(sentences), 25):
            batch = tokenizer(sentences[start : start + 25], padding=True, return_tensors="pt")
            expected = reference(**batch, output_hidden_states=True).hidden_states
            got = ours(batch["input_ids"], batch["attention_mask"]).hidden_states
            real = batch["attention_mask"].bool()
            for layer, (a, b) in enumerate(zip(got, expected, strict=True)):
                worst[layer] = max(worst[layer], float((a[real] - b[real]).abs().max()))
    return Result(
        {
            "sentences": len(sentences),
            "max_abs_difference": worst.tolist(),
            "tolerance": 1e-4,
            "layers": len(ours.layers),
            "positions": reference.config.max_position_embeddings,
        }
    )


def attention_weights(model_folder: Path, text: str) -> tuple[list[str], list[np.ndarray]]:
    """The tokens of ``text`` and our encoder's attention weights: (heads, T, T) per layer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_folder))
    model = BertEncoder.from_pretrained(model_folder)
    batch, tokens = encode(tokenizer, text)
    with torch.no_grad():
        output = model(batch["input_ids"], batch["attention_mask"])
    return tokens, [weights[0].numpy() for weights in output.attentions]


@experiment("transformers", assets={"model": ("minilm",)})
def attention_maps(ctx: Context) -> Result:
    """Attention of MiniLM on the pronoun sentence: one head, all heads of a layer, the sinks.

    The head shown is the one, over all layers, where "it" attends most to "animal".
    """
    tokens, attentions = attention_weights(ctx.assets["model"].path, PRONOUN_SENTENCE)
    it, animal, street = tokens.index("it"), tokens.index("animal"), tokens.index("street")
    stacked = np.stack(attentions)  # (layers, heads, tokens, tokens)
    layer, head = (
        int(i) for i in np.unravel_index(np.argmax(stacked[:, :, it, animal]), stacked.shape[:2])
    )
    to_animal = stacked[layer, :, it, animal]
    ranked = np.sort(stacked[:, :, it, animal].ravel())[::-1]
    special = [i for i, t in enumerate(tokens) if t in ("[CLS]", "[SEP]")]
    sink = [float(a[:, :, special].sum(-1).mean()) for a in attentions]
    punctuation = [i for i, t in enumerate(tokens) if t in (".", "'")]
    values = {
        "sentence": PRONOUN_SENTENCE,
        "tokens": tokens,
        "layer": layer,
        "head": head,
        "it_to_animal": float(to_animal[head]),
        "it_to_street": float(attentions[layer][head, it, street]),
        "it_to_animal_by_head": to_animal.tolist(),
        "heads_searched": int(ranked.size),
        "runner_up": float(ranked[1]),
        "special_token_share": sink,
        "punctuation_share": [float(a[:, :, punctuation].sum(-1).mean()) for a in attentions],
        "uniform_share": len(special) / len(tokens),
    }
    heads = len(attentions[layer])
    grid = attention_grid(attentions[layer], f"All {heads} heads of layer {layer}")
    sinks, ax = new_figure(figsize=(6.0, 3.2))
    ax.bar(range(len(sink)), sink, color=PALETTE[0])
    ax.axhline(
        values["uniform_share"], color="#888888", linestyle="--", label="if attention were uniform"
    )
    ax.set_xlabel("layer")
    ax.set_ylabel("share of attention on [CLS] + [SEP]")
    sinks.legend(loc="outside lower center", fontsize=9)  # below the axes, off the bars
    ax.grid(axis="x", visible=False)
    figures = {
        "head": FigureOutput(
            None,
            f"Heat map of layer {layer}, head {head} attention over the pronoun sentence",
            attention_chart(stacked, tokens, layer, head, "MiniLM attention"),
        ),
        "grid": FigureOutput(
            grid, f"{heads} small heat maps on one colour scale, one per head of layer {layer}"
        ),
        "sinks": FigureOutput(
            sinks, "Bar chart of the share of attention on [CLS] and [SEP] in each layer"
        ),
    }
    return Result(values, figures)


@experiment(
    "transformers",
    settings={"lengths": [64, 128, 256, 512, 1024, 2048], "heads": 12, "head_dim": 32, "batch": 1},
    speed=(
        SpeedRow(
            "attention, longest length: ours / SDPA (ms)",
            "ours_seconds.-1",
            "fused_seconds.-1",
            scale=1000,
            fmt=".2f",
        ),
    ),
)
def attention_cost(ctx: Context) -> Result:
    """Time of our attention and of PyTorch's fused kernel, and the size of the T × T weights."""
    s = ctx.settings
    ours, fused, weight_bytes = [], [], []
    with torch.no_grad():
        for length in s["lengths"]:
            q, k, v = (torch.randn(s["batch"], s["heads"], length, s["head_dim"]) for _ in range(3))
            ours.append(fastest(lambda q=q, k=k, v=v: scaled_dot_product_attention(q, k, v))[0])
            fused.append(
                fastest(
                    lambda q=q, k=k, v=v: torch.nn.functional.scaled_dot_product_attention(q, k, v)
                )[0]
            )
            weight_bytes.append(s["batch"] * s["heads"] * length * length * 4)
    fig, ax = new_figure(figsize=(6.4, 3.6))
    ax.plot(s["lengths"], [1000 * t for t in ours], marker="o", label="from scratch")
    ax.plot(
        s["lengths"],
        [1000 * t for t in fused],
        marker="o",
        label="torch scaled_dot_product_attention",
    )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length")
    ax.set_ylabel("time (ms)")
    ax.set_title(f"One attention layer, {s['heads']} heads of {s['head_dim']} dimensions")
    ax.legend(fontsize=9)
    values = {
        "lengths": s["lengths"],
        "ours_seconds": ours,
        "fused_seconds": fused,
        "ours_over_fused": [a / b for a, b in zip(ours, fused, strict=True)],
        "weights_megabytes": [b / 2**20 for b in weight_bytes],
        "growth_last_doubling": ours[-1] / ours[-2],
    }
    return Result(
        values,
        {"cost": FigureOutput(fig, "Log-log chart of attention time against sequence length")},
    )


def classify(folder: Path, texts: list[str]) -> list[dict[str, Any]]:
    """Label and score of each text under a text-classification model folder."""
    from transformers import pipeline

    classifier = pipeline(
        "text-classification", model=str(folder), model_kwargs={"use_safetensors": True}
    )
    # A text longer than the model reads is classified on its first tokens, not refused.
    results = classifier(texts, truncation=True)
    return [{"label": r["label"], "score": float(r["score"])} for r in results]


@experiment("transformers", assets={"classifier": ("distilbert-sst2", "minilm-sst2")})
def sentiment(ctx: Context) -> Result:
    """The week-1 sentence and a few hard cases, through the sentiment pipeline."""
    texts = [week1.SENTIMENT_SENTENCE, *HARD_CASES.values()]
    results = classify(ctx.assets["classifier"].path, texts)
    return Result(
        {
            "sentence": week1.SENTIMENT_SENTENCE,
            "label": results[0]["label"],
            "score": results[0]["score"],
            "hard_cases": {
                name: {"text": text, **result}
                for (name, text), result in zip(HARD_CASES.items(), results[1:], strict=True)
            },
        }
    )
