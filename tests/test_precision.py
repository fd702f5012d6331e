import pytest

from llmnotes.precision import bf16_supported, cpu_has_bf16, matmul_flops, training_precision

SAPPHIRE = "model name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: sse2 avx512f amx_bf16\n"
SKYLAKE = "model name\t: Intel(R) Xeon(R) Gold 6148\nflags\t\t: sse2 avx2 fma avx512f\n"


def test_native_bf16_is_read_from_the_cpu_flags():
    assert cpu_has_bf16(SAPPHIRE) and bf16_supported(SAPPHIRE)
    assert not cpu_has_bf16(SKYLAKE) and not bf16_supported(SKYLAKE)
    assert not cpu_has_bf16("")


@pytest.mark.parametrize(
    "requested, supported, expected",
    [("auto", True, "bf16"), ("auto", False, "fp32"), ("bf16", True, "bf16"),
     ("bf16", False, "fp32"), ("fp32", True, "fp32")],
)  # fmt: skip
def test_training_precision_uses_bf16_only_where_it_is_native(requested, supported, expected):
    precision, note = training_precision(requested, supported=supported)
    assert precision == expected
    assert (note is not None) == (requested == "bf16" and not supported)


def test_matrix_products_are_measured_in_their_own_dtype():
    import torch

    assert matmul_flops(torch.float32, size=128, repeats=2) > 1e6
    assert matmul_flops(torch.bfloat16, size=128, repeats=2) > 1e6
