"""The machine a run or benchmark ran on, in words: CPU model, cores and the vector instructions that set its speed."""
from __future__ import annotations

import os
import platform
import re
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpuinfo_field(name: str, text: str | None = None) -> str:
    """The value of ``name`` for the first CPU in /proc/cpuinfo (or ``text``); "" if absent."""
    if text is None:
        text = CPUINFO.read_text() if CPUINFO.is_file() else ""
    match = re.search(rf"^{name}\s*:\s*(.*)$", text.split("\n\n")[0], re.M)
    return match[1].strip() if match else ""


def vector_kind(flags: set[str]) -> str:
    """``AVX-512 + bfloat16 + AMX``, ``AVX-512 + bfloat16``, ``AVX-512``, ``AVX2`` or ``no AVX2``: what decides the
    training kernels' speed (AMX's tiles make bfloat16 about 3.7 times float32's speed, AVX-512's bfloat16 about 1.8)."""
    if "avx512_bf16" in flags:
        return "AVX-512 + bfloat16" + (" + AMX" if "amx_bf16" in flags else "")
    if "avx512f" in flags:
        return "AVX-512"
    return "AVX2" if "avx2" in flags else "no AVX2"


def describe_machine(text: str | None = None) -> str:
    """e.g. ``AMD EPYC 9R14 (AVX-512 + bfloat16), 2 cores``, from /proc/cpuinfo (or ``text``)."""
    name = cpuinfo_field("model name", text) or platform.processor() or platform.machine()
    flags = set(cpuinfo_field("flags", text).split())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{name} ({vector_kind(flags)}), {cores} cores"
