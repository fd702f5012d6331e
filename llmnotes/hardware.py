"""What machine the numbers were measured on, and an estimate of its peak arithmetic rate.

The estimate is the usual back-of-the-envelope one: cores × clock × floating-point operations per
cycle, where the last comes from the widest vector extension the CPU reports (AVX-512, AVX2 with
FMA, or SSE) and assumes two fused multiply-add units per core, as on recent server and desktop
cores. Each CPU the process may use counts as a core (on a virtual machine two of them may be
hyper-threads of one physical core, which halves the real peak), and the clock is the nominal
one (turbo raises it). So it is a rough bound; what a benchmark achieves against it says roughly
how much of the machine the software uses.

>>> peak_flops({"cores": 2, "ghz": 2.0, "flops_per_cycle": 32})
128000000000.0
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path
from typing import Any

#: FP32 operations per cycle per core: two FMA units × lanes × 2 (a multiply and an add).
FLOPS_PER_CYCLE = {"avx512f": 64, "avx2+fma": 32, "sse2": 8}


def _cpuinfo() -> str:
    path = Path("/proc/cpuinfo")
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def cpu_info(cpuinfo: str | None = None) -> dict[str, Any]:
    """Describe the CPU: model name, usable cores, clock (GHz) and vector width.

    Args:
        cpuinfo: The text of ``/proc/cpuinfo`` (read from the machine when ``None``).

    Returns:
        ``model``, ``cores`` (the CPUs this process may use), ``ghz`` (``None`` when unknown),
        ``simd`` (a key of :data:`FLOPS_PER_CYCLE`) and ``flops_per_cycle``.
    """
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)$", text, re.M)
    nominal = re.search(r"@ *([\d.]+) *GHz", model.group(1)) if model else None
    ghz = float(nominal.group(1)) if nominal else float(mhz.group(1)) / 1000 if mhz else None
    names = set(flags.group(1).split()) if flags else set()
    if "avx512f" in names:
        simd = "avx512f"
    elif {"avx2", "fma"} <= names:
        simd = "avx2+fma"
    else:
        simd = "sse2"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "model": model.group(1).strip() if model else platform.processor() or platform.machine(),
        "cores": cores or 1,
        "ghz": ghz,
        "simd": simd,
        "flops_per_cycle": FLOPS_PER_CYCLE[simd],
    }


def peak_flops(info: dict[str, Any] | None = None) -> float | None:
    """Peak FP32 operations per second: cores × GHz × operations per cycle (``None`` if unknown)."""
    info = cpu_info() if info is None else info
    if not info.get("ghz"):
        return None
    return float(info["cores"] * info["ghz"] * 1e9 * info["flops_per_cycle"])


def memory_gib() -> float | None:
    """The machine's total memory in GiB, from ``/proc/meminfo`` (``None`` elsewhere)."""
    path = Path("/proc/meminfo")
    found = re.search(r"^MemTotal:\s*(\d+) kB", path.read_text(), re.M) if path.is_file() else None
    return round(int(found.group(1)) / 2**20, 1) if found else None


def training_flops_per_sample(parameters: int, tokens: float) -> float:
    """Operations to train on one sample of ``tokens`` tokens: 6 per parameter per token.

    Two for the forward pass (a multiply and an add per weight), four for the backward pass.
    ``parameters`` should leave out the embedding tables, whose lookups do no arithmetic; the
    attention scores' T² term is left out too, as it is small next to the weights at short
    lengths (Kaplan et al., 2020, section 2.1).
    """
    return 6.0 * parameters * tokens
