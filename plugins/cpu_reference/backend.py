"""The cpu_reference backend's implementation (imports keras)."""

from __future__ import annotations

import keras

from rsx.api import FEATURE_KINDS, BackendPlugin, RuntimeInfo, jit_compile_option
from rsx.api.engine import EmbeddingLookup, routed_optimizer, tf_dataset


class CpuReferenceBackend(BackendPlugin):
    """One device; plain `Embedding` tables; per-table optimizers via `TableRoutedOptimizer`."""

    feature_kinds = FEATURE_KINDS

    def setup(self) -> RuntimeInfo:
        return RuntimeInfo(
            keras_backend=keras.config.backend(),
            device_kind="cpu",
            device_count=1,
            replicas=1,
            tags={"embedding_placement": "default_device"},
        )

    def embeddings(self, tables, features, global_batch_size):
        return EmbeddingLookup(tables, features, name="embeddings")

    def optimizer(self, dense, tables):
        return routed_optimizer(dense, tables)

    def dataset(self, columns, features, label, global_batch_size, training, shuffle, seed):
        return tf_dataset(columns, features, label, global_batch_size, shuffle=shuffle, seed=seed)

    def compile_options(self):
        return {"jit_compile": jit_compile_option(self.config.jit_compile)}
