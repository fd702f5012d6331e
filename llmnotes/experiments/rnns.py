"""The experiments of the RNNs and LSTMs page: why attention replaced recurrence.

Vanishing gradients, the adding problem (a long-range dependency) for an RNN, an LSTM and a small
transformer of the same size, sequential vs. parallel cost, and a character-level language model
on real text. The models here use PyTorch's own layers for speed; :mod:`llmnotes.recurrent`
re-implements them and the tests prove the two agree.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from llmnotes.corpora import CORPORA, split_corpus
from llmnotes.figures import PALETTE, new_figure
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, SpeedRow, experiment
from llmnotes.recurrent import set_forget_bias
from llmnotes.timing import fastest

#: The adding problem's trivial baseline: always answer 1, the mean of the sum of two U(0, 1).
BASELINE_MSE = 1 / 6


# --8<-- [start:adding]
def adding_batch(batch: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """The adding problem (Hochreiter & Schmidhuber 1997): add the two marked numbers.

    Each input step has two features: a random number in [0, 1) and a marker that is 1 at two
    positions, one in each half of the sequence. The target is the sum of the two marked numbers,
    so a model must remember a value from the first half until the very end.
    """
    values = torch.rand(batch, length, generator=generator)
    first = torch.randint(0, length // 2, (batch,), generator=generator)
    second = torch.randint(length // 2, length, (batch,), generator=generator)
    markers = torch.zeros(batch, length)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    target = values[rows, first] + values[rows, second]
    return torch.stack([values, markers], dim=-1), target


# --8<-- [end:adding]


class RecurrentRegressor(nn.Module):
    """An RNN or LSTM reading the sequence, and a linear read-out of its last hidden state.

    The LSTM starts with its forget gates open (:func:`llmnotes.recurrent.set_forget_bias`).
    """

    def __init__(self, kind: str, hidden: int, features: int = 2) -> None:
        super().__init__()
        layer = {"rnn": nn.RNN, "lstm": nn.LSTM}[kind]
        self.recurrent = layer(features, hidden, batch_first=True)
        if kind == "lstm":
            set_forget_bias(self.recurrent)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        output, _ = self.recurrent(x)
        return self.head(output[:, -1]).squeeze(-1)


class AttentionRegressor(nn.Module):
    """A one-layer transformer encoder; a learned summary token in front is read out.

    Only attention can carry information to the summary token, so the model must attend to the
    marked positions; no pooling shortcut is available.
    """

    def __init__(self, width: int, heads: int = 2, features: int = 2) -> None:
        super().__init__()
        self.embed = nn.Linear(features, width)
        self.summary = nn.Parameter(torch.zeros(1, 1, width))
        self.encoder = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True
        )
        self.head = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        tokens = torch.cat([self.summary.expand(len(x), -1, -1), self.embed(x)], dim=1)
        return self.head(self.encoder(tokens)[:, 0]).squeeze(-1)


#: Sizes chosen so that the three models have about the same number of parameters (~4.7k).
MODEL_SIZES = {"rnn": 66, "lstm": 32, "transformer": 24}


def make_model(kind: str) -> nn.Module:
    """An adding-problem model of :data:`MODEL_SIZES`'s size."""
    if kind == "transformer":
        return AttentionRegressor(MODEL_SIZES[kind])
    return RecurrentRegressor(kind, MODEL_SIZES[kind])


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train_adding(model: nn.Module, length: int, steps: int, seed: int, batch: int = 64) -> float:
    """Train on fresh adding-problem batches with Adam; return MSE on 1,000 held-out sequences."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(steps):
        x, y = adding_batch(batch, length, generator)
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    test_x, test_y = adding_batch(1000, length, torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        return float(nn.functional.mse_loss(model(test_x), test_y))


@experiment("rnns", settings={"lengths": [10, 25, 50, 100], "steps": 3000})
def adding_problem(ctx: Context) -> Result:
    """Held-out MSE on the adding problem against sequence length, for three equal-size models."""
    lengths = ctx.settings["lengths"]
    mse: dict[str, list[float]] = {kind: [] for kind in MODEL_SIZES}
    for kind in ctx.progress(list(MODEL_SIZES), desc="models"):
        for length in lengths:
            torch.manual_seed(ctx.seed)
            mse[kind].append(
                train_adding(make_model(kind), length, ctx.settings["steps"], ctx.seed)
            )
    values = {
        "lengths": lengths,
        "mse": mse,
        "baseline_mse": BASELINE_MSE,
        "parameters": {kind: parameter_count(make_model(kind)) for kind in MODEL_SIZES},
    }
    fig, ax = new_figure(figsize=(6.4, 3.6))
    for colour, (kind, ys) in zip(PALETTE, mse.items(), strict=False):
        ax.plot(
            lengths,
            ys,
            marker="o",
            color=colour,
            label=kind.upper() if kind != "transformer" else "transformer",
        )
    ax.axhline(BASELINE_MSE, color="#888888", linestyle="--", label="always answer 1")
    ax.set_yscale("log")
    ax.set_xlabel("sequence length")
    ax.set_ylabel("held-out mean squared error")
    ax.set_title("The adding problem: remembering across the sequence")
    fig.legend(loc="outside lower center", ncol=4, fontsize=9)  # below the axes, off the lines
    alt = "Line chart of adding-problem error against sequence length for RNN, LSTM and transformer"
    return Result(values, {"adding": FigureOutput(fig, alt)})


def input_gradient_norms(model: nn.Module, length: int, seed: int) -> np.ndarray:
    """‖∂loss/∂x_t‖ for every step t of a batch of adding-problem sequences.

    Computed in float64: in float32 the gradient reaching the first steps of an RNN underflows
    to exactly zero, which hides how small it really is.
    """
    x, y = adding_batch(32, length, torch.Generator().manual_seed(seed))
    x = x.double().requires_grad_(True)
    model = model.double()
    nn.functional.mse_loss(model(x), y.double()).backward()
    norms = x.grad.norm(dim=(0, 2)).numpy()
    model.float()
    return norms


@experiment("rnns", settings={"length": 100, "steps": 600})
def vanishing_gradients(ctx: Context) -> Result:
    """How much of the loss's gradient reaches early inputs, for an RNN and an LSTM."""
    length, curves, ratios = ctx.settings["length"], {}, {}
    for kind in ("rnn", "lstm"):
        torch.manual_seed(ctx.seed)
        model = make_model(kind)
        for phase in ("initialised", "trained"):
            if phase == "trained":
                train_adding(model, length, ctx.settings["steps"], ctx.seed)
                model.zero_grad()
            norms = input_gradient_norms(model, length, ctx.seed + 7)
            curves[f"{kind} {phase}"] = norms[::-1] / norms[-1]  # distance from the end
            ratios[f"{kind}_{phase}"] = float(norms[0] / norms[-1])
            ratios[f"{kind}_{phase}_half"] = float(norms[length // 2] / norms[-1])
    fig, ax = new_figure(figsize=(6.4, 3.6))
    styles = {"initialised": "--", "trained": "-"}
    for label, curve in curves.items():
        kind, phase = label.split()
        colour = PALETTE[0] if kind == "rnn" else PALETTE[1]
        ax.plot(range(length), curve, styles[phase], color=colour, label=f"{kind.upper()}, {phase}")
    ax.set_yscale("log")
    ax.set_xlabel("distance of the input from the end of the sequence (steps)")
    ax.set_ylabel("gradient norm (relative to the last step)")
    ax.set_title("How much gradient reaches each input")
    ax.legend(fontsize=9)
    alt = "Log-scale line chart of input gradient norm against distance from the sequence end"
    return Result(
        {"length": length, "first_over_last": ratios}, {"gradients": FigureOutput(fig, alt)}
    )


#: How the timing figure names each layer.
TIMED_LABELS = {
    "lstm": "LSTM (torch.nn.LSTM, loop in C++)",
    "ours_lstm": "LSTM (ours, loop in Python)",
    "attention": "self-attention",
}


@experiment(
    "rnns",
    settings={"lengths": [16, 64, 256, 1024, 2048], "width": 64, "batch": 8},
    speed=(
        SpeedRow(
            "one layer at the longest length: LSTM / attention (ms)",
            "seconds.lstm.-1",
            "seconds.attention.-1",
            scale=1000,
            fmt=".2f",
        ),
    ),
)
def sequential_vs_parallel(ctx: Context) -> Result:
    """Forward-pass time of an LSTM (PyTorch's and ours) and of a self-attention layer.

    ``torch.nn.LSTM`` runs its time loop in C++; ours (:class:`llmnotes.recurrent.LSTM`, the
    same weights) runs it in Python, one step at a time.
    """
    from llmnotes.recurrent import LSTM

    width, batch = ctx.settings["width"], ctx.settings["batch"]
    lstm = nn.LSTM(width, width, batch_first=True).eval()
    ours = LSTM.from_torch(lstm).eval()
    attention = nn.MultiheadAttention(width, 4, batch_first=True).eval()
    layers = {
        "lstm": lstm,
        "ours_lstm": ours,
        "attention": lambda x: attention(x, x, x, need_weights=False),
    }
    times: dict[str, list[float]] = {name: [] for name in layers}
    with torch.no_grad():
        for length in ctx.settings["lengths"]:
            x = torch.randn(batch, length, width)
            for name, layer in layers.items():
                repeats = 1 if name == "ours_lstm" else 5  # the Python loop is slow and steady
                times[name].append(fastest(lambda x=x, f=layer: f(x), repeats=repeats)[0])
    ratios = [a / b for a, b in zip(times["lstm"], times["attention"], strict=True)]
    fig, ax = new_figure(figsize=(6.4, 3.6))
    for colour, (name, ys) in zip(PALETTE, times.items(), strict=False):
        ax.plot(
            ctx.settings["lengths"],
            [1000 * t for t in ys],
            marker="o",
            color=colour,
            label=TIMED_LABELS[name],
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length")
    ax.set_ylabel("forward pass (ms)")
    ax.set_title(f"One layer, width {width}, batch {batch}")
    ax.legend(fontsize=9)
    alt = "Log-log chart of forward time against sequence length for an LSTM and self-attention"
    lengths = ctx.settings["lengths"]
    values = {"lengths": lengths, "seconds": times, "lstm_over_attention": ratios}
    values["attention_faster_up_to"] = max(
        (n for n, r in zip(lengths, ratios, strict=True) if r > 1), default=0
    )
    values["ours_over_torch"] = [
        a / b for a, b in zip(times["ours_lstm"], times["lstm"], strict=True)
    ]
    return Result(values, {"timing": FigureOutput(fig, alt)})


#: Hidden sizes giving the two character models about the same number of parameters.
CHAR_HIDDEN = {"rnn": 256, "lstm": 128}


def char_corpus(ctx: Context) -> tuple[str, str, str]:
    """The corpus's name, its training text and the first characters of its held-out text."""
    corpus = split_corpus(ctx.assets["corpus"])
    held_out = "\n".join(corpus.held_out)[: ctx.settings["held_out_chars"]]
    return corpus.name, "\n".join(corpus.train), held_out


@experiment(
    "rnns",
    assets={"corpus": CORPORA},
    settings={"steps": 3000, "held_out_chars": 50_000, "sample_chars": 300, "temperature": 0.8},
)
def char_language_model(ctx: Context) -> Result:
    """A character-level language model, RNN vs. LSTM of the same size, on real text."""
    from llmnotes.char_lm import (
        CharModel,
        CharVocabulary,
        bits_per_character,
        generate,
        train_char_model,
    )

    name, train_text, held_out = char_corpus(ctx)
    chars = CharVocabulary.build(train_text)
    train_ids, held_ids = chars.encode(train_text), chars.encode(held_out)
    values: dict[str, Any] = {
        "corpus": name,
        "train_chars": len(train_text),
        "held_out_chars": len(held_out),
    }
    values |= {"vocabulary": len(chars.chars), "bits_per_char": {}, "samples": {}, "parameters": {}}
    curves = {}
    for kind in ctx.progress(list(CHAR_HIDDEN), desc="models"):
        torch.manual_seed(ctx.seed)
        model = CharModel(kind, len(chars.chars), CHAR_HIDDEN[kind])
        losses = train_char_model(model, train_ids, ctx.settings["steps"], seed=ctx.seed)
        curves[kind] = [loss / math.log(2) for loss in losses]
        values["bits_per_char"][kind] = bits_per_character(model, held_ids)
        values["parameters"][kind] = parameter_count(model)
        values["samples"][kind] = generate(
            model,
            chars,
            "The ",
            ctx.settings["sample_chars"],
            ctx.settings["temperature"],
            ctx.seed,
        )
    values["uniform_bits"] = math.log2(len(chars.chars))
    fig, ax = new_figure(figsize=(6.4, 3.4))
    for colour, (kind, ys) in zip(PALETTE, curves.items(), strict=False):
        ax.plot([100 * (i + 1) for i in range(len(ys))], ys, color=colour, label=kind.upper())
        ax.axhline(values["bits_per_char"][kind], color=colour, linestyle=":", linewidth=1)
    ax.set_xlabel("training step")
    ax.set_ylabel("bits per character")
    ax.set_title("Character-level language model (dotted: held-out)")
    ax.legend(fontsize=9)
    alt = "Training curves in bits per character of a character-level RNN and LSTM"
    return Result(values, {"training": FigureOutput(fig, alt)})


def lstm_diagram_figure() -> Any:
    """A schematic of one LSTM step: the cell state's path and the three gates acting on it."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = new_figure(figsize=(7.6, 3.8))
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.3, 4.6)
    ax.axis("off")

    def box(x: float, y: float, text: str, colour: str = "#ffffff", w: float = 0.5) -> None:
        patch = FancyBboxPatch((x - w / 2, y - 0.25), w, 0.5, boxstyle="round,pad=0.05",
                               facecolor=colour, edgecolor="#333333", linewidth=1)  # fmt: skip
        ax.add_patch(patch)
        ax.text(x, y, text, ha="center", va="center", fontsize=10)

    def arrow(a: tuple[float, float], b: tuple[float, float], label: str = "") -> None:
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color="#333333"))
        if label:
            ax.text((a[0] + b[0]) / 2, max(a[1], b[1]) + 0.15, label, ha="center", fontsize=10)

    # The cell state runs along the top: forgotten in part, then written to.
    arrow((0.3, 4.0), (2.22, 4.0), "$c_{t-1}$")
    box(2.5, 4.0, "×")
    arrow((2.78, 4.0), (4.72, 4.0))
    box(5.0, 4.0, "+")
    arrow((5.28, 4.0), (9.9, 4.0), "$c_t$")
    # What is written: the input gate times the candidate.
    box(5.0, 2.9, "×")
    arrow((5.0, 3.18), (5.0, 3.72))
    # What is shown: the output gate times tanh of the new cell state.
    arrow((9.0, 4.0), (9.0, 3.18))
    box(9.0, 2.9, "tanh", w=0.8)
    arrow((9.0, 2.62), (9.0, 1.58))
    box(9.0, 1.3, "×")
    arrow((9.28, 1.3), (9.9, 1.3), "$h_t$")
    gates = [
        (2.5, "forget $f_t$ (σ)", (2.5, 3.72)),
        (4.0, "input $i_t$ (σ)", (4.75, 2.75)),
        (5.8, "candidate $g_t$ (tanh)", (5.25, 2.75)),
        (7.55, "output $o_t$ (σ)", (8.72, 1.3)),
    ]
    for x, label, target in gates:
        colour = "#cfe3f3" if "σ" in label else "#f7e0b0"
        box(x, 1.3, label, colour, w=1.35 if "candidate" not in label else 1.7)
        start = (x + 0.68, 1.3) if "output" in label else (x, 1.58)
        arrow(start, target)
        arrow((x, 0.3), (x, 1.02))
    ax.plot([0.3, 7.55], [0.3, 0.3], color="#333333", linewidth=1)
    ax.text(0.3, -0.05, "$[h_{t-1}, x_t]$: the previous output and the new input feed every gate",
            fontsize=9)  # fmt: skip
    ax.set_title("One LSTM step: gates decide what the cell state forgets, stores and shows")
    return fig


@experiment("rnns")
def lstm_diagram(ctx: Context) -> Result:
    """Draw the LSTM cell schematic used on the page."""
    alt = (
        "Diagram of an LSTM step: the cell state runs along the top, multiplied by the forget "
        "gate and added to the input gate times the candidate; the output gate times tanh of the "
        "cell state gives the hidden state"
    )
    return Result({"gates": ["input", "forget", "cell candidate", "output"]},
                  {"diagram": FigureOutput(lstm_diagram_figure(), alt)})  # fmt: skip
