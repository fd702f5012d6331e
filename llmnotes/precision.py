"""bf16 or fp32: which the hardware multiplies natively, how fast, and which training uses.

bfloat16 keeps float32's 8 exponent bits and cuts the mantissa from 23 bits to 7: the same range
(no overflow where fp32 has none) at 2 to 3 significant digits. Under CPU autocast the linear
layers and attention run in bf16 and return bf16, so the activations after them are bf16 too;
the loss is computed in fp32, and the weights, their gradients and the optimiser's state stay
fp32. CPUs with AVX-512 BF16 or AMX (and most recent GPUs) multiply bf16 natively; elsewhere it
is emulated and slower than fp32, so the site uses it only where it is native.

>>> cpu_has_bf16("flags : fpu sse2 avx512f avx512_bf16")
True
"""

from __future__ import annotations

import re
import time
from typing import Any

from llmnotes.hardware import _cpuinfo

#: CPU flags of native bfloat16 arithmetic; without one, bf16 is emulated and slower than fp32.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether ``/proc/cpuinfo`` (or the text given) lists a native bf16 instruction set."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    return bool(flags and BF16_FLAGS & set(flags.group(1).split()))


def bf16_supported(cpuinfo: str | None = None) -> bool:
    """Whether bf16 autocast speeds training up here: a GPU with bf16, or a CPU with it.

    Apple's GPUs (MPS) count as unsupported: autocast to bf16 there is partial. ``cpuinfo``
    replaces ``/proc/cpuinfo`` and skips the GPU checks (for tests).
    """
    import torch

    if cpuinfo is None:
        if torch.cuda.is_available():
            return bool(torch.cuda.is_bf16_supported())
        if torch.backends.mps.is_available():
            return False
    return cpu_has_bf16(cpuinfo)


def training_precision(requested: str, supported: bool | None = None) -> tuple[str, str | None]:
    """The precision training runs in, and a note when it is not the one asked for.

    ``auto`` means bf16 autocast where the hardware multiplies bf16 natively
    (:func:`bf16_supported`, or ``supported`` when given), fp32 elsewhere; ``bf16`` asked for on
    hardware without it falls back to fp32, where it would be emulated and slower.

    >>> training_precision("auto", supported=False)
    ('fp32', None)
    >>> training_precision("bf16", supported=False)[0]
    'fp32'
    """
    if requested == "fp32":
        return "fp32", None
    if bf16_supported() if supported is None else supported:
        return "bf16", None
    if requested == "bf16":
        return "fp32", "this machine has no native bf16 arithmetic; training in fp32 instead"
    return "fp32", None


def matmul_flops(dtype: Any = None, size: int = 2048, repeats: int = 5) -> float:
    """Measured operations per second of a ``size`` × ``size`` matrix product in ``dtype``.

    A product of two n × n matrices does 2n³ operations (n³ multiplies, n³ adds); the best of
    ``repeats`` runs is the machine's practical peak for that dtype: what its kernels reach on
    large matrices, which small ones and the other operations of a network do not.

    >>> matmul_flops(size=64, repeats=1) > 0
    True
    """
    import torch

    dtype = torch.float32 if dtype is None else dtype
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b  # warm up: the first call picks and loads the kernel
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best
