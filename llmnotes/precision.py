"""bf16 or fp32: which the hardware multiplies natively, how fast, and which training uses.

bfloat16 keeps float32's 8 exponent bits and cuts the mantissa from 23 bits to 7: the same range
(no overflow where fp32 has none) at 2 to 3 significant digits. Under CPU autocast the linear
layers and attention run in bf16 and return bf16, so the activations after them are bf16 too;
the loss is computed in fp32, and the weights, their gradients and the optimiser's state stay
fp32. CPUs with AVX-512 BF16 or AMX (and most recent GPUs) have bf16 instructions; without them
bf16 is emulated. Having the instructions is not enough on a CPU: with AMX a bf16 matrix product
runs several times faster than fp32, with AVX-512 BF16 alone it can run slower (measured on one
of this site's build machines). So ``auto`` measures before it picks bf16.

>>> cpu_has_bf16("flags : fpu sse2 avx512f avx512_bf16")
True
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any

from llmnotes.hardware import _cpuinfo

#: CPU flags of native bfloat16 arithmetic; without one, bf16 is emulated and slower than fp32.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})

#: How many times faster than fp32 a bf16 matrix product must run for ``auto`` to pick bf16 on a
#: CPU: a margin, so that a machine where the two are close does not flip between runs.
BF16_MIN_SPEEDUP = 1.25


def cpu_bf16_flags(cpuinfo: str | None = None) -> list[str]:
    """The native bf16 instruction sets ``/proc/cpuinfo`` (or the text given) lists.

    >>> cpu_bf16_flags("flags : fpu sse2 avx512f avx512_bf16 amx_bf16")
    ['amx_bf16', 'avx512_bf16']
    """
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    return sorted(BF16_FLAGS & set(flags.group(1).split())) if flags else []


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether ``/proc/cpuinfo`` (or the text given) lists a native bf16 instruction set."""
    return bool(cpu_bf16_flags(cpuinfo))


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


def cpu_bf16_speedup(size: int = 1024, repeats: int = 3) -> float:
    """How many times faster a bf16 matrix product runs than an fp32 one on this CPU, measured.

    Measured once per process (about 0.2 s) and kept: :func:`matmul_flops` in each dtype.

    >>> cpu_bf16_speedup() > 0
    True
    """
    return _cpu_bf16_speedup(size, repeats)


@functools.cache
def _cpu_bf16_speedup(size: int, repeats: int) -> float:
    import torch

    bf16 = matmul_flops(torch.bfloat16, size, repeats)
    return bf16 / matmul_flops(torch.float32, size, repeats)


def bf16_pays_off() -> bool:
    """Whether bf16 autocast trains faster here than fp32.

    True on a GPU with bf16, and on a CPU with bf16 instructions whose bf16 matrix products
    measure at least :data:`BF16_MIN_SPEEDUP` times fp32's rate (:func:`cpu_bf16_speedup`).
    """
    import torch

    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    return bf16_supported() and cpu_bf16_speedup() >= BF16_MIN_SPEEDUP


def training_precision(
    requested: str, supported: bool | None = None, faster: bool | None = None
) -> tuple[str, str | None]:
    """The precision training runs in, and a note when it is not the one asked for.

    ``auto`` means bf16 autocast where it is faster than fp32 (:func:`bf16_pays_off`, or
    ``supported`` and ``faster`` when given), fp32 elsewhere. ``bf16`` is honoured wherever the
    hardware has bf16 instructions (:func:`bf16_supported`), even where it is slower; without
    them it falls back to fp32, where bf16 would be emulated.

    >>> training_precision("auto", supported=True, faster=False)
    ('fp32', None)
    >>> training_precision("bf16", supported=True, faster=False)
    ('bf16', None)
    >>> training_precision("bf16", supported=False)[0]
    'fp32'
    """
    if requested == "fp32":
        return "fp32", None
    native = bf16_supported() if supported is None else supported
    if requested == "bf16":
        if native:
            return "bf16", None
        return "fp32", "this machine has no native bf16 arithmetic; training in fp32 instead"
    if native and (bf16_pays_off() if faster is None else faster):
        return "bf16", None
    return "fp32", None


def autocast(precision: str) -> Any:
    """The context that runs a CPU forward pass in ``precision`` (``bf16`` or ``fp32``).

    >>> import torch
    >>> with autocast("bf16"):
    ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
    torch.bfloat16
    """
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


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
