"""The cpu_reference backend's implementation (imports keras)."""

from __future__ import annotations

import keras

from rsx.api import FEATURE_KINDS, BackendPlugin, RuntimeInfo, jit_compile_option
from rsx.api.engine import DeviceReport, EmbeddingLookup, check_accelerator, routed_optimizer, tf_dataset


class CpuReferenceBackend(BackendPlugin):
    """One device; plain `Embedding` tables; per-table optimizers via `TableRoutedOptimizer`."""

    feature_kinds = FEATURE_KINDS

    def setup(self) -> RuntimeInfo:
        device = _first_device()
        hint = "cpu_reference on TensorFlow always does: set backend.keras_backend=jax for the GPU"
        check_accelerator(
            device, self.config.require_accelerator, hint=hint if keras.config.backend() == "tensorflow" else ""
        )
        return RuntimeInfo(
            keras_backend=keras.config.backend(),
            device_kind=device.platform,
            device_count=1,
            replicas=1,
            tags={"embedding_placement": "default_device", **device.tags()},
        )

    def embeddings(self, tables, features, global_batch_size):
        return EmbeddingLookup(tables, features, name="embeddings")

    def optimizer(self, dense, tables):
        return routed_optimizer(dense, tables)

    def dataset(self, columns, features, label, global_batch_size, training, shuffle, seed):
        return tf_dataset(columns, features, label, global_batch_size, shuffle=shuffle, seed=seed)

    def compile_options(self):
        return {"jit_compile": jit_compile_option(self.config.jit_compile)}


def _first_device() -> DeviceReport:
    """The device Keras places this run on: JAX's first default device, or TensorFlow's
    first GPU if it sees one (the CPU build never does), else the CPU."""
    if keras.config.backend() == "jax":
        import jax

        return DeviceReport.from_jax(jax.devices()[:1])
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return DeviceReport(platform="cpu", model="cpu", count=1)
    details = tf.config.experimental.get_device_details(gpus[0])
    return DeviceReport(platform="gpu", model=str(details.get("device_name", "gpu")), count=1)
