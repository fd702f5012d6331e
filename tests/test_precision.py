import pytest

import llmnotes.precision
from llmnotes.precision import (
    bf16_pays_off,
    bf16_supported,
    cpu_bf16_speedup,
    cpu_has_bf16,
    matmul_flops,
    training_precision,
)

SAPPHIRE = "model name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: sse2 avx512f amx_bf16\n"
SKYLAKE = "model name\t: Intel(R) Xeon(R) Gold 6148\nflags\t\t: sse2 avx2 fma avx512f\n"


def test_native_bf16_is_read_from_the_cpu_flags():
    assert cpu_has_bf16(SAPPHIRE) and bf16_supported(SAPPHIRE)
    assert not cpu_has_bf16(SKYLAKE) and not bf16_supported(SKYLAKE)
    assert not cpu_has_bf16("")


@pytest.mark.parametrize(
    "requested, supported, faster, expected",
    [("auto", True, True, "bf16"), ("auto", True, False, "fp32"), ("auto", False, True, "fp32"),
     ("bf16", True, False, "bf16"), ("bf16", False, False, "fp32"), ("fp32", True, True, "fp32")],
)  # fmt: skip
def test_auto_trains_in_bf16_only_where_it_is_native_and_faster(
    requested, supported, faster, expected
):
    precision, note = training_precision(requested, supported=supported, faster=faster)
    assert precision == expected
    assert (note is not None) == (requested == "bf16" and not supported)


def test_a_cpu_whose_bf16_is_slower_than_fp32_trains_auto_in_fp32(monkeypatch):
    monkeypatch.setattr(llmnotes.precision, "bf16_supported", lambda cpuinfo=None: True)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    for speedup, expected in ((0.54, "fp32"), (1.1, "fp32"), (6.5, "bf16")):
        monkeypatch.setattr(llmnotes.precision, "cpu_bf16_speedup", lambda s=speedup: s)
        assert bf16_pays_off() == (expected == "bf16")
        assert training_precision("auto") == (expected, None)
        assert training_precision("bf16") == ("bf16", None)


def test_the_cpu_speedup_is_measured_once_per_process():
    first = cpu_bf16_speedup()
    assert first > 0 and cpu_bf16_speedup() == first


def test_matrix_products_are_measured_in_their_own_dtype():
    import torch

    assert matmul_flops(torch.float32, size=128, repeats=2) > 1e6
    assert matmul_flops(torch.bfloat16, size=128, repeats=2) > 1e6
