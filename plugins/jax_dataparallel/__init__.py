"""jax_dataparallel: Keras on JAX, one full replica per device, batches split across devices.

`keras.distribution.DataParallel` over all devices (or the first `backend.devices`): every
device holds the whole model, sees its slice of each global batch, and gradients are
all-reduced. `backend.cpu_devices=N` makes N virtual CPU devices so this runs on a laptop;
`backend.shard_tables=true` shards the embedding tables along their vocabulary instead of
replicating them; `backend.num_processes`/`process_id`/`coordinator_address` span several
processes (hosts) through `jax.distributed`.
"""

import os

from rsx.api import BackendSpec, ConfigError

from .cluster import Cluster, resolve_cluster
from .config import JaxDataParallelConfig

_DEVICE_COUNT_FLAG = "--xla_force_host_platform_device_count"


def check(config) -> None:
    """Rejects values the config's types cannot: a device count below 1, a bad cluster."""
    if config.cpu_devices is not None and config.cpu_devices < 1:
        raise ConfigError(f"backend.cpu_devices={config.cpu_devices} must be at least 1", "set backend.cpu_devices=2")
    resolve_cluster(config)


def environment(config) -> dict[str, str]:
    """KERAS_BACKEND=jax, plus virtual CPU devices and CPU collectives where asked for."""
    env = {"KERAS_BACKEND": "jax"}
    if config.cpu_devices is not None:
        # Keep the user's other XLA flags; only the device count is ours.
        kept = [f for f in os.environ.get("XLA_FLAGS", "").split() if not f.startswith(_DEVICE_COUNT_FLAG)]
        env["XLA_FLAGS"] = " ".join([*kept, f"{_DEVICE_COUNT_FLAG}={config.cpu_devices}"])
        env["JAX_PLATFORMS"] = "cpu"
    if resolve_cluster(config).multi_process:
        # Cross-process all-reduce on CPU needs gloo; TPU and GPU ignore this setting.
        env["JAX_CPU_COLLECTIVES_IMPLEMENTATION"] = "gloo"
    return env


def process_index(config) -> int:
    return resolve_cluster(config).process_id


spec = BackendSpec(
    name="jax_dataparallel",
    config=JaxDataParallelConfig,
    implementation="rsx_plugins.jax_dataparallel.backend:JaxDataParallelBackend",
    environment=environment,
    process_index=process_index,
    check=check,
    description="JAX, keras.distribution.DataParallel over all devices (or hosts); tables optionally sharded",
)

__all__ = ["Cluster", "JaxDataParallelConfig", "environment", "process_index", "resolve_cluster", "spec"]
