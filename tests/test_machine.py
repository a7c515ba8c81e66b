"""The machine's description names the instruction sets that set training speed."""
from fkp_helpers.machine import describe_machine, vector_kind

CPUINFO = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16\n\n"


def test_vector_kind_names_the_fastest_instruction_set() -> None:
    assert vector_kind({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}) == "AVX-512 + bfloat16 + AMX"
    assert vector_kind({"avx2", "avx512f", "avx512_bf16"}) == "AVX-512 + bfloat16"
    assert vector_kind({"avx2", "avx512f"}) == "AVX-512"
    assert vector_kind({"avx2"}) == "AVX2"
    assert vector_kind({"sse4_2"}) == "no AVX2"


def test_describe_machine_reads_the_first_cpu() -> None:
    assert describe_machine(CPUINFO).startswith("Intel(R) Xeon(R) Processor (AVX-512 + bfloat16 + AMX), ")
