"""cpu_reference: the simplest correct single-device path (its name says "reference", not
where it runs).

Plain `keras.layers.Embedding` tables, each trained by its own optimizer where the model
declares one, on one device, with the Keras backend of your choice. It is the yardstick the
distributed backends are compared against. It runs on the device its Keras backend picks:
with `keras_backend=jax` and the `gpu` extra that is the first GPU; with TensorFlow (the CPU
build rsx installs) the CPU. The run's `device_kind` tag says which.
"""

from rsx.api import BackendSpec, ConfigError, jit_compile_option

from .config import CpuReferenceConfig

KERAS_BACKENDS = ("tensorflow", "jax")


def check(config) -> None:
    """Rejects a Keras backend cpu_reference does not run on, or a bad jit_compile value."""
    if config.keras_backend not in KERAS_BACKENDS:
        raise ConfigError(
            f"backend.keras_backend={config.keras_backend!r} is not supported by cpu_reference",
            f"use one of: {', '.join(KERAS_BACKENDS)}",
        )
    jit_compile_option(config.jit_compile)


def environment(config) -> dict[str, str]:
    # No JAX_PLATFORMS: with keras_backend=jax the run takes the device JAX picks (a GPU if any).
    return {"KERAS_BACKEND": config.keras_backend}


spec = BackendSpec(
    name="cpu_reference",
    config=CpuReferenceConfig,
    implementation="rsx_plugins.cpu_reference.backend:CpuReferenceBackend",
    environment=environment,
    check=check,
    description="the simplest correct path: one device (CPU, or a GPU with keras_backend=jax), plain Embedding tables with their own optimizers",
)
