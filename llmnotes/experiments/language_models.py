"""The language-models page's experiments: a GPT from scratch, trained, sampled and cached.

Parity with transformers' GPT-2 and Llama's rotary positions, the character GPT against the RNN
and LSTM of the RNNs page on the same text and budget, positions compared, decoding, and what the
KV cache saves.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import torch
from torch import nn

from llmnotes.char_gpt import save_char_gpt
from llmnotes.char_lm import CharModel, CharVocabulary, bits_per_character, train_char_model
from llmnotes.charts import temperature_chart
from llmnotes.corpora import CORPORA
from llmnotes.decoding import SamplingSettings, generate, next_token_distributions
from llmnotes.experiments.rnns import CHAR_HIDDEN, char_corpus, parameter_count
from llmnotes.figures import PALETTE, new_figure
from llmnotes.gpt import GPT, GPTConfig, kv_cache_bytes, language_model_loss, random_gpt2
from llmnotes.hardware import cpu_info, peak_flops
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, SpeedRow, experiment
from llmnotes.timing import fastest

#: The character GPT the page trains; ``llmnotes generate`` writes with it.
CHAR_GPT = "char-gpt"
#: The character GPT's sizes: about as many parameters as the RNNs page's character models.
GPT_SIZES = {"d_model": 64, "heads": 4, "layers": 2}
#: What every character model of this page trains on: windows, batch, and the step budgets.
TRAINING = {"seq_len": 128, "batch": 32, "checkpoints": [250, 500, 1000, 2000]}
#: How the page names each character model.
LABELS = {"gpt": "GPT", "rnn": "RNN", "lstm": "LSTM"}
#: Adam's learning rate, the same for every model: the RNNs page's.
LEARNING_RATE = 3e-3


def char_gpt(vocab_size: int, context: int, position: str = "learned") -> GPT:
    """The page's character GPT (:data:`GPT_SIZES`), reading windows of ``context`` characters."""
    return GPT(GPTConfig(vocab_size=vocab_size, context=context, position=position, **GPT_SIZES))


def char_model(kind: str, vocab_size: int, context: int) -> nn.Module:
    """A character model of this page: ``gpt``, or the RNNs page's ``rnn`` or ``lstm``."""
    if kind == "gpt":
        return char_gpt(vocab_size, context)
    return CharModel(kind, vocab_size, CHAR_HIDDEN[kind])


def held_out_bits(model: nn.Module, ids: torch.Tensor) -> float:
    """Held-out bits per character; a GPT reads the text in windows as long as its context."""
    chunk = model.config.context if isinstance(model, GPT) else 256
    return bits_per_character(model, ids, chunk=chunk)


def gpt_sample(model: GPT, chars: CharVocabulary, prompt: str, settings: SamplingSettings) -> str:
    """Text sampled from a character GPT after ``prompt``, with a seeded generator."""
    generator = torch.Generator().manual_seed(0)
    out = generate(model.eval(), chars.encode(prompt)[None], settings, generator)
    return chars.decode(out[0])


# --8<-- [start:race]
@experiment(
    "language-models",
    assets={"corpus": CORPORA},
    settings={
        **TRAINING,
        "held_out_chars": 50_000,
        "lr": LEARNING_RATE,
        "sample_chars": 120,
        "temperature": 0.8,
    },
    produces=(CHAR_GPT,),
    speed=(
        SpeedRow(
            "character GPT training arithmetic / CPU peak (GFLOP/s)",
            "gpt_training.achieved_flops",
            "gpt_training.peak_flops",
            scale=1e-9,
            fmt=".1f",
        ),
    ),
)
def gpt_vs_rnn(ctx: Context) -> Result:
    """A character GPT, RNN and LSTM of about the same size, trained on the same text and steps."""
    name, train_text, held_out = char_corpus(ctx)
    chars = CharVocabulary.build(train_text)
    train_ids, held_ids = chars.encode(train_text), chars.encode(held_out)
    s = ctx.settings
    checkpoints, steps = s["checkpoints"], max(s["checkpoints"])
    values: dict[str, Any] = {"corpus": name, "train_chars": len(train_text)}
    values |= {"held_out_chars": len(held_out), "vocabulary": len(chars.chars), "steps": steps}
    values |= {"parameters": {}, "bits_per_char": {}, "seconds": {}, "train_bits": {}}
    values["samples"] = {}
    for kind in ctx.progress(["gpt", "rnn", "lstm"], desc="models"):
        torch.manual_seed(ctx.seed)
        model = char_model(kind, len(chars.chars), s["seq_len"])
        losses: list[float] = []
        bits, seconds = evaluated_training(model, train_ids, held_ids, s, s["lr"], ctx.seed, losses)
        values["parameters"][kind] = parameter_count(model)
        values["bits_per_char"][kind], values["seconds"][kind] = bits, seconds
        values["train_bits"][kind] = [loss / math.log(2) for loss in losses]
        if kind == "gpt":
            save_char_gpt(model, chars, ctx.outputs[CHAR_GPT])
            settings = SamplingSettings(s["temperature"], max_new_tokens=s["sample_chars"] - 4)
            values["samples"][kind] = gpt_sample(model, chars, "The ", settings)
            values["gpt_training"] = training_rate(model, s, seconds[-1])
        else:
            from llmnotes.char_lm import generate as rnn_generate

            text = rnn_generate(
                model, chars, "The ", s["sample_chars"] - 4, s["temperature"], ctx.seed
            )
            values["samples"][kind] = text
    values["checkpoints"], values["context"] = checkpoints, s["seq_len"]
    values["uniform_bits"] = math.log2(len(chars.chars))
    final = {kind: b[-1] for kind, b in values["bits_per_char"].items()}
    values["best"] = LABELS[min(final, key=final.get)]
    values["last_gain"] = {kind: b[-2] - b[-1] for kind, b in values["bits_per_char"].items()}
    return Result(values, {"race": FigureOutput(race_figure(values), race_alt(values))})


# --8<-- [end:race]


def evaluated_training(
    model: nn.Module,
    train_ids: torch.Tensor,
    held_ids: torch.Tensor,
    settings: dict[str, Any],
    lr: float,
    seed: int,
    losses: list[float],
) -> tuple[list[float], list[float]]:
    """Train ``model``, measuring held-out bits at each checkpoint; fill ``losses`` (nats).

    Returns the held-out bits per character and the training seconds (evaluation left out) at
    each of ``settings["checkpoints"]``.
    """
    bits, seconds, paused = [], [], 0.0
    start = time.perf_counter()

    def checkpoint(step: int) -> None:
        nonlocal paused
        if step in settings["checkpoints"]:
            stop = time.perf_counter()
            seconds.append(stop - start - paused)
            bits.append(held_out_bits(model, held_ids))
            paused += time.perf_counter() - stop

    steps = max(settings["checkpoints"])
    losses += train_char_model(
        model, train_ids, steps, settings["seq_len"], settings["batch"], lr, seed, checkpoint
    )
    return bits, seconds


def training_rate(model: GPT, settings: dict[str, Any], seconds: float) -> dict[str, float]:
    """Training tokens per second and estimated arithmetic rate of the character GPT.

    Six operations per non-embedding parameter per token, plus the attention scores and their
    weighted sum: 6 × layers × context × d_model more per token (forward and backward).
    """
    tokens = max(settings["checkpoints"]) * settings["batch"] * settings["seq_len"]
    c = model.config
    per_token = 6 * model.num_parameters(non_embedding=True) + 6 * c.layers * c.context * c.d_model
    rate = tokens / seconds
    peak = peak_flops(cpu_info()) or float("nan")
    return {
        "tokens_per_second": rate,
        "achieved_flops": rate * per_token,
        "peak_flops": peak,
        "achieved_gflops": rate * per_token / 1e9,
        "peak_gflops": peak / 1e9,
        "flops_per_token": float(per_token),
    }


def race_figure(values: dict[str, Any]) -> Any:
    """Training and held-out bits per character against steps (left); held-out against seconds."""
    fig, (left, right) = new_figure(1, 2, figsize=(8.4, 3.6), sharey=True)
    for colour, (kind, bits) in zip(PALETTE, values["bits_per_char"].items(), strict=False):
        label = f"{LABELS[kind]} ({values['parameters'][kind] / 1000:.0f}k parameters)"
        train = values["train_bits"][kind]
        steps = [100 * (i + 1) for i in range(len(train))]
        left.plot(steps, train, color=colour, linewidth=1, alpha=0.8)
        left.plot(values["checkpoints"], bits, "o--", color=colour, label=label)
        right.plot(values["seconds"][kind], bits, "o--", color=colour)
    left.set_xlabel("training steps")
    left.set_xlim(left=0)
    right.set_xlabel("training time on this machine (s)")
    right.set_xlim(left=0)
    left.set_ylabel("bits per character")
    left.set_ylim(top=max(values["bits_per_char"][k][0] for k in values["bits_per_char"]) + 0.6)
    left.set_title("line: training windows, dots: held-out", fontsize=10, fontweight="normal")
    right.set_title("held-out, against time", fontsize=10, fontweight="normal")
    fig.legend(loc="outside lower center", ncol=3, fontsize=9)
    fig.suptitle("Same text, same windows, about the same size", fontweight="bold")
    return fig


def race_alt(values: dict[str, Any]) -> str:
    """Alt text of the race figure."""
    return (
        "Two line charts of bits per character for a GPT, an RNN and an LSTM: training and "
        "held-out loss against training steps, and held-out loss against training time"
    )


@experiment(
    "language-models",
    assets={"corpus": CORPORA},
    settings={
        "steps": 500,
        "seq_len": 128,
        "batch": 32,
        "lr": LEARNING_RATE,
        "held_out_chars": 50_000,
    },
)
def positions(ctx: Context) -> Result:
    """The same character GPT with no positions, learned, sinusoidal and rotary positions."""
    _, train_text, held_out = char_corpus(ctx)
    chars = CharVocabulary.build(train_text)
    train_ids, held_ids = chars.encode(train_text), chars.encode(held_out)
    s = ctx.settings
    bits, curves = {}, {}
    for kind in ctx.progress(["none", "learned", "sinusoidal", "rotary"], desc="positions"):
        torch.manual_seed(ctx.seed)
        model = char_gpt(len(chars.chars), s["seq_len"], position=kind)
        losses = train_char_model(
            model, train_ids, s["steps"], s["seq_len"], s["batch"], s["lr"], ctx.seed
        )
        bits[kind] = held_out_bits(model, held_ids)
        curves[kind] = [loss / math.log(2) for loss in losses]
    fig, ax = new_figure(figsize=(6.0, 3.2))
    bars = ax.bar(list(bits), list(bits.values()), color=PALETTE[: len(bits)])
    ax.bar_label(bars, fmt="%.3f", padding=2, fontsize=9)
    ax.set_ylabel("held-out bits per character")
    ax.set_xlabel("position information")
    ax.set_ylim(bottom=min(bits.values()) * 0.9)
    ax.set_title(f"One GPT, four ways to know where a token is ({s['steps']:,} steps)")
    ax.grid(axis="x", visible=False)
    alt = "Bar chart of held-out bits per character for four kinds of position information"
    best = min(bits, key=bits.get)
    values = {"bits_per_char": bits, "train_bits": curves, "best": best, "steps": s["steps"]}
    return Result(values, {"positions": FigureOutput(fig, alt)})


@experiment("language-models")
def parity(ctx: Context) -> Result:
    """Our GPT against transformers' GPT-2, and our rotary positions against Llama's, float64."""
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    from llmnotes.positions import Rotary

    reference = random_gpt2()
    ours, fused = GPT.from_hf(reference, fused=False), GPT.from_hf(reference)
    ids = torch.randint(0, 64, (2, 24), generator=torch.Generator().manual_seed(ctx.seed))
    with torch.no_grad():
        theirs = reference(ids, labels=ids, output_hidden_states=True)
        mine = ours(ids, output_hidden_states=True)
        hidden = [*mine.hidden_states[:-1], ours.ln_f(mine.hidden_states[-1])]
        prefix = ours(ids[:, :16])
        cached = ours(ids[:, 16:], past=prefix.past).logits
        fused_logits = fused(ids).logits

    def gap(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((a - b).abs().max())

    head_dim, tokens = 16, 24
    llama = LlamaConfig(hidden_size=64, num_attention_heads=4, max_position_embeddings=tokens)
    position_ids = torch.arange(tokens)[None]
    q, k = torch.randn(2, 1, 4, tokens, head_dim).unbind(0)
    cos, sin = LlamaRotaryEmbedding(llama)(q, position_ids)
    rotated = apply_rotary_pos_emb(q, k, cos, sin)
    our_rotated = Rotary(head_dim, tokens)(q, k, offset=0)
    values = {
        "logits_max_diff": gap(mine.logits, theirs.logits),
        "loss_diff": abs(float(language_model_loss(mine.logits, ids)) - float(theirs.loss)),
        "hidden_max_diff": [gap(a, b) for a, b in zip(hidden, theirs.hidden_states, strict=True)],
        "cached_logits_max_diff": gap(cached, mine.logits[:, 16:]),
        "fused_logits_max_diff": gap(fused_logits, mine.logits),
        "rotary_max_diff": max(gap(a, b) for a, b in zip(our_rotated, rotated, strict=True)),
        "parameters_match": ours.num_parameters() == reference.num_parameters(),
        "sequences": ids.shape[0],
        "tokens": ids.shape[1],
    }
    with torch.device("meta"):  # GPT-2 small's shapes, without allocating its weights
        small = GPT(GPTConfig())
    values["gpt2_small_parameters"] = small.num_parameters()
    values["gpt2_small_non_embedding"] = small.num_parameters(non_embedding=True)
    return Result(values)


@experiment(
    "language-models",
    settings={
        "steps": 20,
        "repeats": 2,
        "seq_len": TRAINING["seq_len"],
        "batch": TRAINING["batch"],
    },
    speed=(
        SpeedRow(
            "character GPT training step: fused attention / ours (ms)",
            "step_ms.fused",
            "step_ms.ours",
            fmt=".1f",
        ),
    ),
)
def attention_kernel(ctx: Context) -> Result:
    """Training steps of the character GPT with PyTorch's fused attention and with the site's."""
    s = ctx.settings
    ids = torch.randint(0, 96, (50_000,), generator=torch.Generator().manual_seed(ctx.seed))
    step_ms = {}
    for name, fused in (("ours", False), ("fused", True)):
        torch.manual_seed(ctx.seed)
        model = GPT(GPTConfig(vocab_size=96, context=s["seq_len"], fused=fused, **GPT_SIZES))
        seconds, _ = fastest(
            lambda m=model: train_char_model(m, ids, s["steps"], s["seq_len"], s["batch"]),
            repeats=s["repeats"],
        )
        step_ms[name] = 1000 * seconds / s["steps"]
    return Result({"step_ms": step_ms, "speedup": step_ms["ours"] / step_ms["fused"]})


@experiment(
    "language-models",
    assets={"model": (CHAR_GPT,)},
    settings={"prompt": "The ", "temperatures": [0.5, 1.0, 2.0], "top_p": 0.9, "chars": 120},
)
def decoding(ctx: Context) -> Result:
    """The trained character GPT's next-character distribution, and samples at each setting."""
    from llmnotes.char_gpt import load_char_gpt

    model, chars = load_char_gpt(ctx.assets["model"].path)
    s = ctx.settings
    prompt = chars.encode(s["prompt"])
    dists = next_token_distributions(model, prompt, s["temperatures"])
    top = sorted(range(len(chars.chars)), key=lambda i: -dists[1.0][i])[:12]
    shown = [chars.chars[i] for i in top]
    samples = {}
    for label, settings in {
        "greedy": SamplingSettings(temperature=0),
        "temperature 0.5": SamplingSettings(temperature=0.5),
        "temperature 1.0": SamplingSettings(temperature=1.0),
        "temperature 1.5": SamplingSettings(temperature=1.5),
        f"top-p {s['top_p']}": SamplingSettings(top_p=s["top_p"]),
        "top-k 5": SamplingSettings(top_k=5),
        "repetition penalty 1.3, greedy": SamplingSettings(temperature=0, repetition_penalty=1.3),
    }.items():
        sized = dataclasses.replace(settings, max_new_tokens=s["chars"])
        samples[label] = gpt_sample(model, chars, s["prompt"], sized)
    ranked = sorted(dists[1.0], reverse=True)
    nucleus = next(i + 1 for i in range(len(ranked)) if sum(ranked[: i + 1]) >= s["top_p"])
    values = {
        "prompt": s["prompt"],
        "top_chars": shown,
        "probabilities": {str(t): [dists[t][i] for i in top] for t in s["temperatures"]},
        "nucleus_size": nucleus,
        "top_p": s["top_p"],
        "vocabulary": len(chars.chars),
        "samples": samples,
    }
    alt = (
        "Bar chart of the character GPT's next-character probabilities under a temperature "
        f"slider, at T = {s['temperatures'][0]} first, with ticks at T = 1"
    )
    chart = temperature_chart(
        chars.chars,
        dists[1.0],
        s["temperatures"][0],
        f"Next character after {s['prompt']!r}",
        unit="characters",
    )
    return Result(values, {"distribution": FigureOutput(None, alt, chart)})


@experiment(
    "language-models",
    settings={"lengths": [64, 128, 256, 512, 1024], "prompt": 16, "d_model": 128, "layers": 2},
    speed=(
        SpeedRow(
            "generation at the longest length: KV cache / none (tokens/s)",
            "tokens_per_second.ours_cache.-1",
            "tokens_per_second.ours_no_cache.-1",
            fmt=",.0f",
        ),
        SpeedRow(
            "generation with the cache: ours / transformers (tokens/s)",
            "tokens_per_second.ours_cache.-1",
            "tokens_per_second.library_cache.-1",
            fmt=",.0f",
        ),
    ),
)
def kv_cache(ctx: Context) -> Result:
    """Greedy generation with and without the KV cache, ours and transformers', same weights."""
    s = ctx.settings
    longest = max(s["lengths"])
    reference = random_gpt2(
        torch.float32, n_layer=s["layers"], n_head=4, n_embd=s["d_model"], vocab_size=256,
        n_positions=longest,
    )  # fmt: skip
    ours = GPT.from_hf(reference).eval()
    prompt = torch.randint(0, 256, (1, s["prompt"]), generator=torch.Generator().manual_seed(0))
    rates: dict[str, list[float]] = {}
    same = True
    for length in ctx.progress(s["lengths"], desc="lengths"):
        new = length - s["prompt"]
        greedy = SamplingSettings(temperature=0, max_new_tokens=new)
        runs = {
            "ours_cache": lambda g=greedy: generate(ours, prompt, g, use_cache=True),
            "ours_no_cache": lambda g=greedy: generate(ours, prompt, g, use_cache=False),
            "library_cache": lambda n=new: library_generate(reference, prompt, n, True),
        }
        outputs = {}
        for name, run in runs.items():
            warm = length != s["lengths"][0]  # one warm-up per way, at the shortest length
            seconds, outputs[name] = fastest(run, repeats=1, warmup=not warm)
            rates.setdefault(name, []).append(new / seconds)
        same &= all(torch.equal(out, outputs["ours_cache"]) for out in outputs.values())
    cache_speedup = [
        a / b for a, b in zip(rates["ours_cache"], rates["ours_no_cache"], strict=True)
    ]
    g = GPT_SIZES
    memory = {
        "char_gpt": kv_cache_bytes(g["layers"], g["heads"], g["d_model"] // g["heads"],
                                   TRAINING["seq_len"], 4),
        "gpt2_small_fp32": kv_cache_bytes(12, 12, 64, 1024, 4),
        "gpt2_small_fp16": kv_cache_bytes(12, 12, 64, 1024, 2),
        "timed_model": kv_cache_bytes(s["layers"], 4, s["d_model"] // 4, longest, 4),
    }  # fmt: skip
    fig, ax = new_figure(figsize=(6.6, 3.6))
    for colour, (name, ys) in zip(PALETTE, rates.items(), strict=False):
        ax.plot(s["lengths"], ys, marker="o", color=colour, label=name.replace("_", " "))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("tokens at the end (prompt + generated)")
    ax.set_ylabel("generated tokens per second")
    ax.set_title(f"Greedy generation, {s['layers']} layers × {s['d_model']} wide")
    ax.legend(fontsize=9)
    alt = "Log-log chart of generation speed against length, with and without the KV cache"
    values = {"lengths": s["lengths"], "tokens_per_second": rates, "same_tokens": same}
    values |= {"cache_speedup": cache_speedup, "memory_bytes": memory}
    values["ours_over_library"] = [
        a / b for a, b in zip(rates["ours_cache"], rates["library_cache"], strict=True)
    ]
    return Result(values, {"speed": FigureOutput(fig, alt)})


def library_generate(model: Any, prompt: torch.Tensor, new: int, use_cache: bool) -> torch.Tensor:
    """The greedy ``generate`` of transformers, for exactly ``new`` tokens."""
    with torch.no_grad():
        return model.generate(
            prompt, max_new_tokens=new, min_new_tokens=new, do_sample=False, use_cache=use_cache,
            attention_mask=torch.ones_like(prompt), pad_token_id=0,
        )  # fmt: skip
