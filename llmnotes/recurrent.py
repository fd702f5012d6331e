"""Recurrent networks from scratch: an RNN cell, an LSTM cell, and layers that run them over time.

Written with plain tensor operations, parameter for parameter like ``torch.nn.RNN`` and
``torch.nn.LSTM`` (same names, shapes and gate order), so that weights copied from the library
give the same outputs, states and gradients.

Examples:
    >>> import torch
    >>> layer = LSTM(3, 5)
    >>> output, (h, c) = layer(torch.zeros(7, 2, 3))
    >>> tuple(output.shape), tuple(h.shape)
    ((7, 2, 5), (1, 2, 5))
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _uniform(*shape: int, bound: float) -> nn.Parameter:
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


class RNNCell(nn.Module):
    """One step of an Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        bound = 1 / math.sqrt(hidden_size)  # torch's initialisation
        self.weight_ih = _uniform(hidden_size, input_size, bound=bound)
        self.weight_hh = _uniform(hidden_size, hidden_size, bound=bound)
        self.bias_ih = _uniform(hidden_size, bound=bound)
        self.bias_hh = _uniform(hidden_size, bound=bound)

    # --8<-- [start:rnn_cell]
    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Next hidden state from input ``x`` (batch, input) and state ``h`` (batch, hidden)."""
        return torch.tanh(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)

    # --8<-- [end:rnn_cell]


class LSTMCell(nn.Module):
    """One step of an LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.).

    The four gates are stacked in the library's order: input, forget, cell candidate, output.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        bound = 1 / math.sqrt(hidden_size)
        self.weight_ih = _uniform(4 * hidden_size, input_size, bound=bound)
        self.weight_hh = _uniform(4 * hidden_size, hidden_size, bound=bound)
        self.bias_ih = _uniform(4 * hidden_size, bound=bound)
        self.bias_hh = _uniform(4 * hidden_size, bound=bound)

    # --8<-- [start:lstm_cell]
    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Next (hidden, cell) state from input ``x`` and the previous (hidden, cell) state."""
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=-1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g  # forget some of the old memory, write some new
        h = o * torch.tanh(c)  # expose some of the memory as the output
        return h, c

    # --8<-- [end:lstm_cell]


class RNN(nn.Module):
    """A one-layer tanh RNN over a sequence, with ``torch.nn.RNN``'s inputs and outputs.

    Args:
        input_size: Features per time step.
        hidden_size: Size of the hidden state.
        batch_first: Inputs and outputs are (batch, time, features) instead of (time, batch, …).
    """

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool = False) -> None:
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size)
        self.hidden_size = hidden_size
        self.batch_first = batch_first

    def forward(
        self, x: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return every step's hidden state and the final one (shaped (1, batch, hidden))."""
        steps = x.transpose(0, 1) if self.batch_first else x
        h = steps.new_zeros(steps.shape[1], self.hidden_size) if h0 is None else h0[0]
        outputs = []
        for x_t in steps:  # one step after the other: the recurrence cannot be parallelised
            h = self.cell(x_t, h)
            outputs.append(h)
        output = torch.stack(outputs)
        return (output.transpose(0, 1) if self.batch_first else output), h.unsqueeze(0)

    @classmethod
    def from_torch(cls, module: nn.RNN) -> RNN:
        """A copy of a one-layer ``torch.nn.RNN`` (tanh, with biases)."""
        layer = cls(module.input_size, module.hidden_size, module.batch_first)
        _copy_weights(module, layer.cell)
        return layer.to(module.weight_ih_l0.dtype)


class LSTM(nn.Module):
    """A one-layer LSTM over a sequence, with ``torch.nn.LSTM``'s inputs and outputs."""

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool = False) -> None:
        super().__init__()
        self.cell = LSTMCell(input_size, hidden_size)
        self.hidden_size = hidden_size
        self.batch_first = batch_first

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Return every step's hidden state and the final (hidden, cell) states."""
        steps = x.transpose(0, 1) if self.batch_first else x
        if state is None:
            h = c = steps.new_zeros(steps.shape[1], self.hidden_size)
        else:
            h, c = state[0][0], state[1][0]
        outputs = []
        for x_t in steps:
            h, c = self.cell(x_t, (h, c))
            outputs.append(h)
        output = torch.stack(outputs)
        output = output.transpose(0, 1) if self.batch_first else output
        return output, (h.unsqueeze(0), c.unsqueeze(0))

    @classmethod
    def from_torch(cls, module: nn.LSTM) -> LSTM:
        """A copy of a one-layer ``torch.nn.LSTM`` (with biases)."""
        layer = cls(module.input_size, module.hidden_size, module.batch_first)
        _copy_weights(module, layer.cell)
        return layer.to(module.weight_ih_l0.dtype)


def _copy_weights(module: nn.RNNBase, cell: nn.Module) -> None:
    if module.num_layers != 1 or module.bidirectional or not module.bias:
        raise ValueError("only one-layer, one-directional modules with biases can be copied")
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(module, f"{name}_l0"))


def set_forget_bias(module: nn.LSTM, value: float = 1.0) -> None:
    """Start a ``torch.nn.LSTM``'s forget gates open: bias ``value`` (Gers et al. 2000).

    With the default initialisation the forget gate starts near 0.5, so the cell state halves at
    every step and long-range signals vanish before training can learn to keep them.
    """
    hidden = module.hidden_size
    with torch.no_grad():
        for layer in range(module.num_layers):
            getattr(module, f"bias_ih_l{layer}")[hidden : 2 * hidden].fill_(value)
            getattr(module, f"bias_hh_l{layer}")[hidden : 2 * hidden].fill_(0.0)
