"""What a run's devices are, as tags, and `backend.require_accelerator`.

A run that silently trains on the CPU of a GPU machine (the CPU build of JAX installed, a
driver missing, `CUDA_VISIBLE_DEVICES` empty) looks like a slow GPU run unless the run says
which device it used. Backends describe their devices with `DeviceReport`, record its tags,
and call `check_accelerator` before anything is built.

Imports no framework itself: callers pass in what JAX or TensorFlow reported.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from typing import Optional, Sequence

from rsx.errors import RsxError

log = logging.getLogger("rsx")

#: Packages that only a GPU build of JAX installs (the `gpu` extra's `jax[cuda12]`).
GPU_PLUGINS = ("jax_cuda12_plugin", "jax_cuda13_plugin")
#: The logger through which JAX reports a plugin (e.g. CUDA) that failed to start.
JAX_PLUGIN_LOGGER = "jax._src.xla_bridge"


class _PluginStartFailures(logging.Filter):
    """Holds back JAX's report of a GPU plugin that could not start, and remembers it.

    When the GPU build of JAX finds no usable GPU, JAX logs "Jax plugin configuration error"
    with a 20-line traceback and carries on with the CPU. `check_accelerator` says the same
    in one line, naming the cause kept here.
    """

    def __init__(self):
        super().__init__()
        self.causes: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith("Jax plugin configuration error"):
            return True
        error = record.exc_info[1] if record.exc_info else None
        self.causes.append(" ".join(str(error or record.getMessage()).split())[:200])
        return False


_plugin_failures = _PluginStartFailures()


def hold_back_jax_plugin_errors() -> None:
    """Call before JAX starts its backends (the first `jax.devices()`); imports nothing."""
    logger = logging.getLogger(JAX_PLUGIN_LOGGER)
    if _plugin_failures not in logger.filters:
        logger.addFilter(_plugin_failures)


@dataclasses.dataclass(frozen=True)
class DeviceReport:
    """The devices a run trains on.

    Args:
        platform: "cpu", "gpu" or "tpu" (JAX's `Device.platform`; TensorFlow's device type,
            lower-cased).
        model: what the device calls itself, e.g. "NVIDIA H200", "TPU v6 lite", "cpu".
        count: devices the model runs on.
        memory_bytes: memory of one device in bytes (`Device.memory_stats()["bytes_limit"]`,
            what JAX may allocate), or None where the runtime does not say (CPU).
    """

    platform: str
    model: str
    count: int
    memory_bytes: Optional[int] = None

    @classmethod
    def from_jax(cls, devices: Sequence) -> "DeviceReport":
        """From a list of `jax.Device` (all of one kind, as a mesh holds them)."""
        first = devices[0]
        try:
            stats = first.memory_stats() or {}
        except Exception:  # Informative only: some runtimes (CPU, older plugins) do not say.
            stats = {}
        limit = stats.get("bytes_limit")
        return cls(
            platform=str(first.platform).lower(),
            model=str(first.device_kind),
            count=len(devices),
            memory_bytes=int(limit) if limit else None,
        )

    @property
    def is_accelerator(self) -> bool:
        return self.platform != "cpu"

    def tags(self) -> dict[str, str]:
        """`device_model` and, where known, `device_memory_gib` (per device).

        `device_kind` (the platform) and `device_count` are `RuntimeInfo` fields already.
        """
        tags = {"device_model": self.model}
        if self.memory_bytes:
            tags["device_memory_gib"] = f"{self.memory_bytes / 2**30:.1f}"
        return tags


def gpu_build_installed() -> bool:
    """Whether a GPU build of JAX is installed (its CUDA plugin is importable); imports nothing."""
    return any(importlib.util.find_spec(name) is not None for name in GPU_PLUGINS)


def check_accelerator(
    report: DeviceReport,
    required: bool,
    key: str = "backend.require_accelerator",
    cpu_by_choice: str = "",
    hint: str = "",
) -> None:
    """Fails (one line) when an accelerator is required but only a CPU was found; warns (one
    line) when none is required, none was found, but a GPU build is installed, i.e. the
    machine was set up for a GPU the run cannot see.

    Args:
        report: the devices the run would train on.
        required: the backend's `require_accelerator`.
        key: the config key named in the message.
        cpu_by_choice: the setting that asked for the CPU (e.g. "backend.cpu_devices=2");
            then the CPU is no surprise and there is no warning.
        hint: what would put this backend on a GPU, appended to the warning.
    """
    if report.is_accelerator:
        return
    if required:
        if cpu_by_choice:
            found, fix = f"the CPU that {cpu_by_choice} asks for", f"remove {cpu_by_choice}"
        elif gpu_build_installed():
            found, fix = "a CPU", "check nvidia-smi and CUDA_VISIBLE_DEVICES (the GPU build of JAX is installed)"
        else:
            found, fix = "a CPU", "on a GPU machine install rsx with the gpu extra (pip install -e '.[gpu]')"
        raise RsxError(f"{key}=true but this run found only {found}", f"{fix}, or set {key}=false")
    if gpu_build_installed() and not cpu_by_choice:
        why = hint or "no GPU visible" + (f": {_plugin_failures.causes[-1]}" if _plugin_failures.causes else "")
        log.warning(
            "rsx: the GPU build of JAX is installed but this run trains on the CPU (%s); "
            "set %s=true to fail instead", why, key,
        )
