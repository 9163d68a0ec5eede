"""The embeddings layer models get from tf_sparsecore: one keras-rs `DistributedEmbedding`."""

from __future__ import annotations

import keras
import keras_rs


@keras.saving.register_keras_serializable(package="rsx_tf_sparsecore")
class DistributedLookup(keras.layers.Layer):
    """{feature: ids} -> {feature: vectors} through one `keras_rs.layers.DistributedEmbedding`.

    `DistributedEmbedding` wants every configured feature in every call and reports the
    configured global-batch shape symbolically. Models may look up any subset of features
    (e.g. only candidates) and with any batch; this layer fills missing features with id 0
    (their lookups are discarded, so their gradient is zero) and reports each output as the
    input's shape plus the table's width.

    On SparseCore a call must still carry exactly the configured global batch (static
    shapes, one step of all replicas); on the default device any batch works.

    Args:
        feature_configs: {feature name: `keras_rs.layers.FeatureConfig`}.
        table_stacking: "auto" or None (no stacking), passed to `DistributedEmbedding`.
    """

    def __init__(self, feature_configs, table_stacking="auto", **kwargs):
        super().__init__(**kwargs)
        configs = dict(feature_configs)  # A plain dict: keras-rs matches the inputs against it.
        self.distributed = keras_rs.layers.DistributedEmbedding(
            configs, table_stacking=table_stacking, name="distributed_embedding"
        )
        self.input_shapes = {name: tuple(fc.input_shape) for name, fc in configs.items()}
        self.dims = {name: fc.table.embedding_dim for name, fc in configs.items()}

    def build(self, input_shape=None):
        # Built with the configured shapes, whatever subset or batch the first call has.
        self.distributed.build(dict(self.input_shapes))
        self.built = True

    def call(self, inputs):
        unknown = set(inputs) - set(self.dims)
        if unknown:
            raise KeyError(f"no embedding table for features {sorted(unknown)}; known: {sorted(self.dims)}")
        if set(inputs) == set(self.dims):
            return self.distributed(dict(inputs))
        first = next(iter(inputs.values()))
        full = {name: inputs[name] if name in inputs else keras.ops.zeros_like(first) for name in self.dims}
        looked_up = self.distributed(full)
        return {name: looked_up[name] for name in inputs}

    def compute_output_shape(self, input_shape):
        return {name: tuple(shape) + (self.dims[name],) for name, shape in input_shape.items()}

    def get_config(self):
        # keras-rs serializes the FeatureConfigs (and the tables they share) itself.
        return {**super().get_config(), "distributed": self.distributed.get_config()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        distributed = keras_rs.layers.DistributedEmbedding.from_config(config.pop("distributed"))
        return cls(distributed._feature_configs, table_stacking=getattr(distributed, "_table_stacking", "auto"), **config)

    def get_embedding_tables(self) -> dict[str, "keras.KerasTensor"]:
        """{table name: its full content}, on SparseCore gathered from the shards."""
        return self.distributed.get_embedding_tables()
