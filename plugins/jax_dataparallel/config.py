"""Config of the jax_dataparallel backend (`backend=jax_dataparallel`)."""

from __future__ import annotations

import dataclasses
from typing import Optional


@dataclasses.dataclass
class JaxDataParallelConfig:
    # Plugin name; selects this backend.
    name: str = "jax_dataparallel"
    # Virtual CPU devices to create (XLA_FLAGS=--xla_force_host_platform_device_count=N and
    # JAX_PLATFORMS=cpu, set before JAX starts); null = the devices JAX finds (TPU, GPU or CPU).
    cpu_devices: Optional[int] = None
    # Data-parallel width: train on the first N devices (a 1-D mesh of them); null = all.
    # One process only: a multi-process job always spans every device of every process.
    devices: Optional[int] = None
    # Shard every embedding table along its vocabulary over the devices (Keras ModelParallel +
    # LayoutMap) instead of replicating it; for tables too large for one device's memory.
    shard_tables: bool = False
    # XLA-compile the train step: "auto" lets Keras decide, or true/false.
    jit_compile: str = "auto"
    # Fail before training when JAX finds only CPU devices (e.g. a GPU machine without the gpu
    # extra, or no GPU visible); false trains wherever JAX runs (one warning if the GPU build of
    # JAX is installed but found no GPU).
    require_accelerator: bool = False
    # Multi-process (multi-host) data parallelism; each null falls back to the environment
    # variables Keras reads (KERAS_DISTRIBUTION_JOB_ADDRESSES / _NUM_PROCESSES / _PROCESS_ID),
    # then JAX_COORDINATOR_ADDRESS. With one process none of them is needed.
    # host:port of process 0, which every process connects to.
    coordinator_address: Optional[str] = None
    # Processes taking part; > 1 turns multi-process training on.
    num_processes: Optional[int] = None
    # This process's index, 0 .. num_processes - 1; only process 0 records to MLflow.
    process_id: Optional[int] = None
    # Seconds to wait for the coordinator and every process to join before failing.
    coordinator_timeout_seconds: int = 60
