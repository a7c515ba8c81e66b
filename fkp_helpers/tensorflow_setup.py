"""Importing Keras's backend without its start-up log lines (oneDNN, CUDA stubs, absl) in notebook outputs, and what
that backend sees.

TensorFlow is the project's backend. ``KERAS_BACKEND=jax`` also runs the training code, on machines that have JAX but
no TensorFlow (``benchmarks/bench_gpu.py`` uses it on a GPU); other backends are not tried.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator


@contextlib.contextmanager
def stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the block: TF's C++ logging writes there, below Python's sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def uses_tensorflow() -> bool:
    """Whether Keras runs on TensorFlow (its default; ``KERAS_BACKEND`` chooses another before Keras is imported)."""
    import keras

    return keras.config.backend() == "tensorflow"


def import_tensorflow_quietly() -> None:
    """Import Keras and its TensorFlow backend and probe the devices once, with TF's start-up messages silenced
    (on another backend, Keras alone).

    Later imports are free (the modules are cached). ``TF_CPP_MIN_LOG_LEVEL`` is set to 3 unless the user set it.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with stderr_silenced():
        if not uses_tensorflow():
            return
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")


def gpu_compute_capabilities() -> list[tuple[int, int]]:
    """The CUDA compute capability of each GPU the Keras backend sees (TensorFlow or JAX; empty without a GPU)."""
    if uses_tensorflow():
        import tensorflow as tf

        return [tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0)))
                for gpu in tf.config.list_physical_devices("GPU")]
    import jax

    return [tuple(int(part) for part in str(device.compute_capability).split(".")[:2])
            for device in jax.devices() if device.platform == "gpu"]
