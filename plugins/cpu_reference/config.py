"""Config of the cpu_reference backend (`backend=cpu_reference`)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class CpuReferenceConfig:
    # Plugin name; selects this backend.
    name: str = "cpu_reference"
    # Keras backend to run on: "tensorflow" (default) or "jax".
    keras_backend: str = "tensorflow"
    # XLA-compile the train step: "auto" lets Keras decide, or true/false.
    jit_compile: str = "auto"
    # Fail before training when the Keras backend finds only a CPU (e.g. on a GPU machine
    # without the gpu extra); false trains wherever it runs (one warning if a GPU build of JAX
    # is installed but the run is on the CPU).
    require_accelerator: bool = False
