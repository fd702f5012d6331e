"""Checks for the RNNs and LSTMs exercises (the end of the RNNs and LSTMs page).

Examples:
    >>> print(check_lstm_parameters(3, 5, 4 * 5 * (3 + 5) + 2 * 4 * 5))
    Right: an LSTM(3, 5) has 200 parameters, and you said 200.
    >>> print(check_lstm_parameters(3, 5, 4 * 5 * (3 + 5) + 4 * 5))
    Not yet: you said 180, but an LSTM(3, 5) has 200: PyTorch keeps two biases, b_ih and b_hh.
    >>> print(check_gradient_ratio("gru", 50, 0.1))
    Not yet: kind is 'gru'; this exercise takes 'rnn' or 'lstm'.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from collections.abc import Callable, Sequence

import torch

from llmnotes.exercises import Verdict, unanswered
from llmnotes.recurrent import LSTM, LSTMCell, RNNCell, set_forget_bias

#: The seed of the gradient exercises: ``torch.manual_seed`` before the model, and the batch's.
SEED = 0
#: Largest layer size the parameter exercise takes, and the longest sequence of the others.
MAX_SIZE = 4096
MAX_LENGTH = 200
#: The LSTM step exercise's cases: (batch, input size, hidden size).
LSTM_CASES = ((2, 3, 4), (1, 5, 2), (3, 1, 6))
#: The Jacobian exercise's cases: (time steps, input size, hidden size).
JACOBIAN_CASES = ((3, 2, 3), (5, 3, 4), (20, 2, 6))
#: How far (in powers of ten) a measured gradient ratio may be from the reference.
RATIO_TOLERANCE = 0.01

LSTMStep = Callable[..., tuple[torch.Tensor, torch.Tensor]]
Jacobian = Callable[[RNNCell, torch.Tensor, torch.Tensor], torch.Tensor]


def lstm_parameter_count(input_size: int, hidden_size: int) -> int:
    """Parameters of a :class:`llmnotes.recurrent.LSTM` (``torch.nn.LSTM``'s layout)."""
    with torch.device("meta"):  # shapes only: no memory, no random numbers drawn
        layer = LSTM(input_size, hidden_size)
    return sum(p.numel() for p in layer.parameters())


def check_lstm_parameters(input_size: int, hidden_size: int, count: int | None) -> Verdict:
    """Exercise 1: how many parameters a one-layer LSTM of these sizes has."""
    if not (1 <= input_size <= MAX_SIZE and 1 <= hidden_size <= MAX_SIZE):
        return Verdict(
            False,
            f"LSTM({input_size}, {hidden_size}): this exercise takes sizes 1 to {MAX_SIZE:,}.",
        )
    layer = f"an LSTM({input_size}, {hidden_size})"
    if count is None:
        return unanswered(f"the parameters of {layer}")
    if not isinstance(count, numbers.Integral) or isinstance(count, bool):
        return Verdict(False, f"a parameter count is a whole number; you gave {count!r}.")
    expected = lstm_parameter_count(input_size, hidden_size)
    if int(count) == expected:
        return Verdict(True, f"{layer} has {expected:,} parameters, and you said {count:,}.")
    i, h = input_size, hidden_size
    hints = {
        h * (i + h) + 2 * h: "that is a tanh RNN's; an LSTM has four gates",
        3 * h * (i + h) + 6 * h: "that is a GRU's; an LSTM has four gates",
        4 * h * (i + h): "the gates have biases too",
        4 * h * (i + h) + 4 * h: "PyTorch keeps two biases, b_ih and b_hh",
    }
    hint = f": {hints[count]}" if count in hints else ""
    return Verdict(False, f"you said {count:,}, but {layer} has {expected:,}{hint}.")


def _lstm_inputs(number: int, batch: int, inputs: int, hidden: int) -> tuple[torch.Tensor, ...]:
    """Case ``number``'s (x, h, c, weight_ih, weight_hh, bias_ih, bias_hh), in float64."""
    generator = torch.Generator().manual_seed(number)

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    return (
        draw(batch, inputs),
        draw(batch, hidden),
        draw(batch, hidden),
        draw(4 * hidden, inputs) * 0.5,
        draw(4 * hidden, hidden) * 0.5,
        draw(4 * hidden) * 0.5,
        draw(4 * hidden) * 0.5,
    )


def lstm_cell_step(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    weights: Sequence[torch.Tensor],
    order: Sequence[int] = (0, 1, 2, 3),
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of :class:`llmnotes.recurrent.LSTMCell` with these weights.

    ``order`` permutes the four stacked gate blocks first: the reference for a reader who reads
    the gates in another order than PyTorch's (input, forget, candidate, output).
    """
    hidden = h.shape[-1]
    with torch.random.fork_rng(devices=[]):  # building the cell draws numbers: not the reader's
        cell = LSTMCell(x.shape[-1], hidden).double()
    with torch.no_grad():
        for name, weight in zip(
            ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights, strict=True
        ):
            blocks = weight.split(hidden)
            getattr(cell, name).copy_(torch.cat([blocks[k] for k in order]))
        return cell(x, (h, c))


def _distance(got: object, expected: torch.Tensor) -> float | str:
    """Largest absolute difference, or what is wrong with ``got``'s type or shape."""
    if not isinstance(got, torch.Tensor):
        return f"is a {type(got).__name__}, not a tensor"
    if got.shape != expected.shape:
        return f"has shape {tuple(got.shape)}, not {tuple(expected.shape)}"
    return float((got.detach().double() - expected).abs().max())


def _close(got: object, expected: torch.Tensor) -> bool:
    distance = _distance(got, expected)
    return isinstance(distance, float) and distance <= 1e-6 * (1 + float(expected.abs().max()))


def check_lstm_step(function: LSTMStep | None) -> Verdict:
    """Exercise 2: your ``lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh)``.

    It must return the next ``(h, c)``, as :class:`llmnotes.recurrent.LSTMCell` does with these
    weights, on each of :data:`LSTM_CASES` (float64, random weights).
    """
    if function is None:
        return unanswered("your LSTM step")
    if not callable(function):
        return Verdict(False, f"lstm_step must be a function; you gave {type(function).__name__}.")
    for number, (batch, inputs, hidden) in enumerate(LSTM_CASES, start=1):
        x, h, c, *weights = _lstm_inputs(number, batch, inputs, hidden)
        case = f"case {number} (batch {batch}, input {inputs}, hidden {hidden})"
        expected = lstm_cell_step(x, h, c, weights)
        try:  # on copies: a step that updates c in place is still a right step
            got = function(x.clone(), h.clone(), c.clone(), *(w.clone() for w in weights))
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{case}: lstm_step raised {type(error).__name__}: {error}.")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return Verdict(False, f"{case}: lstm_step must return the pair (h, c).")
        if all(_close(g, e) for g, e in zip(got, expected, strict=True)):
            continue
        for order in itertools.permutations(range(4)):
            if all(
                _close(g, e)
                for g, e in zip(got, lstm_cell_step(x, h, c, weights, order), strict=True)
            ):
                return Verdict(
                    False,
                    "your gates are in another order: PyTorch stacks input, forget, "
                    "candidate, output.",
                )
        distances = {n: _distance(g, e) for n, g, e in zip("hc", got, expected, strict=True)}
        for name, distance in distances.items():
            if isinstance(distance, str):
                return Verdict(False, f"{case}: your {name} {distance}.")
        if _close(got[1], expected[1]):
            return Verdict(False, f"{case}: c is right but h is not: h = o * tanh(new c).")
        wrong = " and ".join(
            n for n, g, e in zip("hc", got, expected, strict=True) if not _close(g, e)
        )
        verb = "differ" if " and " in wrong else "differs"
        return Verdict(
            False,
            f"{case}: {wrong} {verb} from LSTMCell's by up to {max(distances.values()):.3g}.",
        )
    return Verdict(True, f"your LSTM step agrees with LSTMCell on {len(LSTM_CASES)} cases.")


def _check_kind_and_length(kind: str, length: int) -> Verdict | None:
    if kind not in ("rnn", "lstm"):
        return Verdict(False, f"kind is {kind!r}; this exercise takes 'rnn' or 'lstm'.")
    if not isinstance(length, int) or not 2 <= length <= MAX_LENGTH:
        return Verdict(False, f"length is {length!r}; this exercise takes 2 to {MAX_LENGTH}.")
    return None


@functools.cache
def reference_gradient_ratio(kind: str, length: int, forget_bias: float | None = None) -> float:
    """‖∂loss/∂x_1‖ / ‖∂loss/∂x_T‖ of the page's adding-problem model, freshly initialised.

    The model is ``make_model(kind)`` after ``torch.manual_seed(SEED)`` (an LSTM's forget bias
    set to ``forget_bias`` if given), on the batch ``input_gradient_norms`` draws with ``SEED``,
    in float64.
    """
    from llmnotes.experiments.rnns import input_gradient_norms, make_model

    with torch.random.fork_rng(devices=[]):  # the reader's random numbers stay as they were
        torch.manual_seed(SEED)
        model = make_model(kind)
    if forget_bias is not None:
        set_forget_bias(model.recurrent, forget_bias)
    norms = input_gradient_norms(model, length, SEED)
    return float(norms[0] / norms[-1])


def _check_ratio(ratio: float | None, expected: float, what: str) -> Verdict:
    if ratio is None:
        return unanswered(what)
    number = isinstance(ratio, (int, float)) and not isinstance(ratio, bool)
    if not number or math.isnan(ratio) or ratio <= 0:
        return Verdict(False, f"{what} is a ratio of two norms, above 0; you gave {ratio!r}.")
    off = math.log10(ratio / expected)
    if abs(off) <= RATIO_TOLERANCE:
        return Verdict(True, f"{what} is {expected:.2e}, and you said {ratio:.2e}.")
    if abs(math.log10(ratio * expected)) <= RATIO_TOLERANCE:
        return Verdict(
            False, f"you said {ratio:.2e}: that is last over first; divide the other way."
        )
    direction = "high" if off > 0 else "low"
    return Verdict(False, f"you said {ratio:.2e}, too {direction}: {what} is {expected:.2e}.")


def check_gradient_ratio(kind: str, length: int, ratio: float | None) -> Verdict:
    """Exercise 3: first-over-last input gradient norm of a fresh ``make_model(kind)``."""
    if (bad := _check_kind_and_length(kind, length)) is not None:
        return bad
    what = f"the {kind.upper()}'s ratio at length {length}"
    if ratio is None:
        return unanswered(what)
    return _check_ratio(ratio, reference_gradient_ratio(kind, length), what)


def check_forget_bias(forget_bias: float, length: int, ratio: float | None) -> Verdict:
    """Exercise 4: the LSTM's first-over-last gradient ratio with its forget bias changed."""
    if (bad := _check_kind_and_length("lstm", length)) is not None:
        return bad
    number = isinstance(forget_bias, (int, float)) and not isinstance(forget_bias, bool)
    if not number or not -5 <= forget_bias <= 5:
        return Verdict(False, f"forget_bias is {forget_bias!r}; this exercise takes -5 to 5.")
    what = f"the ratio with forget bias {forget_bias:g} at length {length}"
    if ratio is None:
        return unanswered(what)
    expected = reference_gradient_ratio("lstm", length, float(forget_bias))
    return _check_ratio(ratio, expected, what)


def _jacobian_inputs(number: int, steps: int, inputs: int, hidden: int) -> tuple:
    """Case ``number``'s float64 (cell, xs, h0)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(number)
        cell = RNNCell(inputs, hidden).double()
    generator = torch.Generator().manual_seed(number)
    xs = torch.randn(steps, inputs, generator=generator, dtype=torch.float64)
    h0 = torch.randn(hidden, generator=generator, dtype=torch.float64) * 0.5
    return cell, xs, h0


def reference_jacobian(cell: RNNCell, xs: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """∂h_T/∂h_0 of ``cell`` run over the inputs ``xs`` from ``h0``, by autograd."""

    def unroll(h: torch.Tensor) -> torch.Tensor:
        for x in xs:
            h = cell(x, h)
        return h

    return torch.autograd.functional.jacobian(unroll, h0).detach()


def _slips(cell: RNNCell, xs: torch.Tensor, h0: torch.Tensor) -> dict[str, torch.Tensor]:
    """Jacobians with the usual slips, each with what to say about it."""
    w = cell.weight_hh.detach()
    eye = torch.eye(len(h0), dtype=h0.dtype)
    old_state, left, transposed = eye, eye, eye
    with torch.no_grad():
        h = h0
        for x in xs:
            new = cell(x, h)
            old_state = (1 - h**2)[:, None] * w @ old_state
            left = left @ ((1 - new**2)[:, None] * w)
            transposed = (1 - new**2)[:, None] * w.T @ transposed
            h = new
    return {
        "tanh's slope is 1 - h_t**2 at the new state h_t, not at h_(t-1)": old_state,
        "multiply each new step's Jacobian on the left, not the right": left,
        "the step's Jacobian has W_hh, not its transpose": transposed,
    }


def check_rnn_jacobian(function: Jacobian | None) -> Verdict:
    """Exercise 5: your ``rnn_jacobian(cell, xs, h0)``, ∂h_T/∂h_0 as a product of step Jacobians.

    Compared with autograd's (:func:`reference_jacobian`) on each of :data:`JACOBIAN_CASES`.
    """
    if function is None:
        return unanswered("your rnn_jacobian")
    if not callable(function):
        return Verdict(
            False, f"rnn_jacobian must be a function; you gave {type(function).__name__}."
        )
    for number, (steps, inputs, hidden) in enumerate(JACOBIAN_CASES, start=1):
        cell, xs, h0 = _jacobian_inputs(number, steps, inputs, hidden)
        case = f"case {number} ({steps} steps, hidden {hidden})"
        try:
            got = function(cell, xs, h0)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{case}: rnn_jacobian raised {type(error).__name__}: {error}.")
        expected = reference_jacobian(cell, xs, h0)
        if _close(got, expected):
            continue
        distance = _distance(got, expected)
        if isinstance(distance, str):
            return Verdict(False, f"{case}: your Jacobian {distance}.")
        for hint, slip in _slips(cell, xs, h0).items():
            if _close(got, slip):
                return Verdict(False, f"{case}: {hint}.")
        return Verdict(
            False, f"{case}: your Jacobian differs from autograd's by up to {distance:.3g}."
        )
    return Verdict(True, f"your Jacobian agrees with autograd's on {len(JACOBIAN_CASES)} cases.")
