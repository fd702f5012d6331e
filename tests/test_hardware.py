import pytest

from llmnotes.hardware import (
    FLOPS_PER_CYCLE,
    cpu_info,
    memory_gib,
    peak_flops,
    training_flops_per_sample,
)

XEON = """processor\t: 0
model name\t: Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz
cpu MHz\t\t: 1000.000
flags\t\t: fpu sse sse2 avx avx2 fma avx512f
"""
PLAIN = """model name\t: Intel(R) Xeon(R) Processor
cpu MHz\t\t: 2600.000
flags\t\t: fpu sse sse2
"""


def test_cpu_info_reads_the_nominal_clock_and_widest_vectors():
    info = cpu_info(XEON)
    assert info["model"].startswith("Intel(R) Xeon(R) Gold 6148")
    assert info["ghz"] == 2.4  # the nominal clock, not the momentary one
    assert info["simd"] == "avx512f" and info["flops_per_cycle"] == 64
    plain = cpu_info(PLAIN)
    assert plain["ghz"] == 2.6 and plain["simd"] == "sse2"
    assert cpu_info("")["ghz"] is None and cpu_info("")["cores"] >= 1


def test_peak_is_cores_times_clock_times_operations_per_cycle():
    info = {"cores": 2, "ghz": 2.6, "flops_per_cycle": FLOPS_PER_CYCLE["avx2+fma"]}
    assert peak_flops(info) == pytest.approx(2 * 2.6e9 * 32)
    assert peak_flops({"cores": 2, "ghz": None, "flops_per_cycle": 8}) is None


def test_this_machine_is_described():
    info = cpu_info()
    assert info["cores"] >= 1 and info["model"]
    assert memory_gib() is None or memory_gib() > 0


def test_training_costs_six_operations_per_parameter_and_token():
    assert training_flops_per_sample(1_000_000, 10) == 6e7
