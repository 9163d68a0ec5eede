"""cpu_reference: the simplest correct single-device path.

Plain `keras.layers.Embedding` tables, each trained by its own optimizer where the model
declares one, on one device, with the Keras backend of your choice. It is the yardstick the
distributed backends are compared against.
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
    env = {"KERAS_BACKEND": config.keras_backend}
    if config.keras_backend == "jax":
        env["JAX_PLATFORMS"] = "cpu"
    return env


spec = BackendSpec(
    name="cpu_reference",
    config=CpuReferenceConfig,
    implementation="rsx_plugins.cpu_reference.backend:CpuReferenceBackend",
    environment=environment,
    check=check,
    description="one device, plain Embedding tables with their own optimizers",
)
