r"""LoRA from scratch: a low-rank update beside a frozen linear layer (Hu et al., 2021).

A frozen layer computes \(Wx + b\). LoRA adds a trainable update of rank \(r\),

\[ h = Wx + b + \frac{\alpha}{r} B A x, \]

with \(A \in \mathbb{R}^{r \times d_{in}}\) (random at the start) and
\(B \in \mathbb{R}^{d_{out} \times r}\) (zero at the start, so the model starts exactly as
the pre-trained one). Only \(A\) and \(B\) train: \(r (d_{in} + d_{out})\) numbers
instead of \(d_{in} d_{out}\). For inference the update folds into the weight,
\(W' = W + \frac{\alpha}{r} B A\), and costs nothing. The layout, the initialisation and the
scaling are those of Hugging Face ``peft``, which the tests check this module against.

Examples:
    >>> import torch
    >>> torch.manual_seed(0) and None
    >>> layer = LoRALinear(torch.nn.Linear(16, 8), rank=2)
    >>> [tuple(p.shape) for p in layer.parameters() if p.requires_grad]
    [(2, 16), (8, 2)]
    >>> x = torch.randn(3, 16)
    >>> bool(torch.equal(layer(x), layer.base(x)))  # B starts at zero
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from llmnotes.errors import UserError

#: The layers LoRA adapts in a BERT-style encoder by default: attention's queries and values,
#: as in the paper and in ``peft``'s defaults for BERT.
BERT_TARGETS = ("query", "value")


class LoRAError(UserError, ValueError):
    """A LoRA setting that cannot be used (a rank below 1 or above the layer's size)."""


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update ``(alpha / rank) · B A``.

    Args:
        base: The pre-trained layer; its parameters are frozen.
        rank: The rank ``r`` of the update, from 1 to ``min(in_features, out_features)``.
        alpha: The scale numerator; the update is multiplied by ``alpha / rank``
            (default: ``rank``, a scale of 1).
        dropout: Dropout on the layer's input, in the update's branch only.

    Raises:
        LoRAError: ``rank`` is out of range.
    """

    def __init__(
        self, base: nn.Linear, rank: int, alpha: float | None = None, dropout: float = 0.0
    ) -> None:
        super().__init__()
        largest = min(base.in_features, base.out_features)
        if not isinstance(rank, int) or not 1 <= rank <= largest:
            raise LoRAError(
                f"LoRA rank {rank!r} is out of range: give a whole number from 1 to {largest} "
                f"(the smaller side of a {base.out_features} × {base.in_features} layer)"
            )
        self.base = base
        for parameter in self.base.parameters():
            parameter.requires_grad_(False)
        self.rank = rank
        self.scaling = (rank if alpha is None else alpha) / rank
        factory = {"dtype": base.weight.dtype, "device": base.weight.device}
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features, **factory))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank, **factory))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))  # nn.Linear's own initialisation
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``base(x) + scaling · (dropout(x) Aᵀ) Bᵀ``: the update never forms a full matrix."""
        update = self.dropout(x) @ self.lora_a.T @ self.lora_b.T
        return self.base(x) + self.scaling * update

    def delta_weight(self) -> torch.Tensor:
        """The update as a full matrix, ``scaling · B A`` (the shape of ``base.weight``)."""
        return self.scaling * (self.lora_b @ self.lora_a)

    def merged(self) -> nn.Linear:
        """A plain ``nn.Linear`` computing the same function: ``W + scaling · B A``."""
        layer = nn.Linear(
            self.base.in_features,
            self.base.out_features,
            bias=self.base.bias is not None,
            dtype=self.base.weight.dtype,
            device=self.base.weight.device,
        )
        with torch.no_grad():
            layer.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                layer.bias.copy_(self.base.bias)
        return layer


def _replace(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


def add_lora(
    model: nn.Module,
    rank: int,
    alpha: float | None = None,
    dropout: float = 0.0,
    targets: Iterable[str] = BERT_TARGETS,
    trainable: Iterable[str] = ("classifier",),
) -> list[str]:
    """Freeze ``model`` and wrap each ``nn.Linear`` whose name ends in a target with LoRA.

    Args:
        model: The model, changed in place.
        rank: The rank of every update (see :class:`LoRALinear`).
        alpha: The scale numerator (default: ``rank``).
        dropout: Dropout in the update's branch.
        targets: Last parts of the names of the layers to adapt (``query`` matches
            ``bert.encoder.layer.0.attention.self.query``).
        trainable: Modules, by the first part of their name, that stay fully trainable: the
            new classification head, which the pre-trained model does not have.

    Returns:
        The names of the adapted layers.

    Raises:
        LoRAError: No layer matches ``targets``, or ``rank`` is out of range for one.
    """
    targets, keep = tuple(targets), tuple(trainable)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and name.rpartition(".")[2] in targets
    ]
    if not names:
        raise LoRAError(f"no linear layer is named {' or '.join(targets)}; nothing to adapt")
    for name in names:
        _replace(model, name, LoRALinear(model.get_submodule(name), rank, alpha, dropout))
    for name, parameter in model.named_parameters():
        if name.split(".")[0] in keep:
            parameter.requires_grad_(True)
    return names


def merge_lora(model: nn.Module) -> nn.Module:
    """Fold every :class:`LoRALinear` of ``model`` into a plain ``nn.Linear``, in place."""
    names = [name for name, module in model.named_modules() if isinstance(module, LoRALinear)]
    for name in names:
        _replace(model, name, model.get_submodule(name).merged())
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return model


def trainable_parameters(model: nn.Module) -> int:
    """How many numbers an optimiser updates in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable tensors only (adapters and head): what a LoRA run needs to save."""
    return {
        name: parameter.detach().clone()
        for name, parameter in model.named_parameters()
        if parameter.requires_grad
    }
