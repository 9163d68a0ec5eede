"""The embeddings layer models get from tf_sparsecore: one keras-rs `DistributedEmbedding`."""

from __future__ import annotations

import dataclasses

import keras
import keras_rs
import tensorflow as tf

from rsx.api import FeatureSpec


@keras.saving.register_keras_serializable(package="rsx_tf_sparsecore")
class DistributedLookup(keras.layers.Layer):
    """{feature: ids} -> {feature: vectors} through one `keras_rs.layers.DistributedEmbedding`.

    Models give every kind padded and dense, as `FeatureSpec` says; this layer hands
    `DistributedEmbedding` what it takes (shapes in `tables.feature_configs`):

    - id: the ids as they are.
    - multi_hot: the ids with per-id weights that are 0 at padding (times the feature's
      weights column, if any), so the table's combiner (mean/sum/sqrtn, applied by
      `DistributedEmbedding`: on SparseCore by the hardware) reduces the real ids only.
    - sequence: one lookup per position (B * max_length rows), reshaped to
      (B, max_length, dim), padding positions zero.

    With `sparse_inputs` (on SparseCore) the padded ids become `tf.SparseTensor`s of static
    dense shape without the padding entries, weights with the same indices, and every
    id feature a (B, 1) sparse column: TPUEmbedding enqueues sparse ids with sparse weights
    and takes no weights with dense ids. On the default device (the CPU fallback) the same
    `DistributedEmbedding` takes the dense form (XLA-compilable). When the model has id
    features only, no weights are passed at all (the tutorial's path, unchanged).

    `DistributedEmbedding` wants every configured feature in every call. Models may look up
    any subset (e.g. only candidates) and with any batch; missing features are filled with
    id 0 (their lookups are discarded, so their gradient is zero). On SparseCore a call must
    still carry exactly the configured global batch (static shapes, one step of all
    replicas); on the default device any batch works.

    Args:
        feature_configs: {feature name: `keras_rs.layers.FeatureConfig`}.
        features: the model's `FeatureSpec`s (numeric ones are ignored).
        table_stacking: "auto" or None (no stacking), passed to `DistributedEmbedding`.
        sparse_inputs: hand padded ids over as `tf.SparseTensor`s (SparseCore).
    """

    def __init__(self, feature_configs, features=(), table_stacking="auto", sparse_inputs=False, **kwargs):
        super().__init__(**kwargs)
        configs = dict(feature_configs)  # A plain dict: keras-rs matches the inputs against it.
        self.distributed = keras_rs.layers.DistributedEmbedding(
            configs, table_stacking=table_stacking, name="distributed_embedding"
        )
        specs = [f if isinstance(f, FeatureSpec) else FeatureSpec(**f) for f in features]
        # A v1 caller (features not given) has id features only.
        self.specs = {f.name: f for f in specs if f.table is not None} or {n: FeatureSpec(n, "?") for n in configs}
        self.sparse_inputs = sparse_inputs
        self.input_shapes = {name: tuple(fc.input_shape) for name, fc in configs.items()}
        self.dims = {name: fc.table.embedding_dim for name, fc in configs.items()}
        self.weighted = any(spec.kind != "id" for spec in self.specs.values())

    def build(self, input_shape=None):
        # Built with the configured shapes, whatever subset or batch the first call has.
        self.distributed.build(dict(self.input_shapes))
        self.built = True

    def call(self, inputs):
        unknown = set(inputs) - set(self.dims) - {s.weights for s in self.specs.values() if s.weights}
        if unknown:
            raise KeyError(f"no embedding table for features {sorted(unknown)}; known: {sorted(self.dims)}")
        batch = keras.ops.shape(next(iter(inputs.values())))[0]
        ids, weights = {}, {}
        for name, spec in self.specs.items():
            x = inputs[name] if name in inputs else keras.ops.zeros((batch, *spec.shape), "int32")
            ids[name], weights[name] = self._prepare(spec, x, inputs.get(spec.weights))
        looked_up = self.distributed(ids, weights if self.weighted else None)
        out = {}
        for name in inputs:
            spec = self.specs.get(name)
            if spec is None:
                continue  # a weights column
            vectors = looked_up[name]
            if spec.kind == "sequence":
                present = keras.ops.cast(keras.ops.not_equal(inputs[name], 0), vectors.dtype)
                vectors = keras.ops.reshape(vectors, (-1, spec.max_length, self.dims[name]))
                vectors = vectors * keras.ops.expand_dims(present, -1)
            out[name] = vectors
        return out

    def _prepare(self, spec: FeatureSpec, ids, weights):
        """(ids, weights) of one feature in the form `DistributedEmbedding` takes."""
        ids = keras.ops.cast(ids, "int32")
        if spec.kind == "sequence":
            ids = keras.ops.reshape(ids, (-1,))
        if spec.kind == "multi_hot":
            present = keras.ops.cast(keras.ops.not_equal(ids, 0), "float32")
            weights = present if weights is None else present * keras.ops.cast(weights, "float32")
        else:
            weights = keras.ops.ones(keras.ops.shape(ids), "float32")
        if not self.sparse_inputs:
            return ids, weights
        if spec.kind == "id":  # every row one id, id 0 (out of vocabulary) included
            return _column(ids), _column(weights)
        if spec.kind == "sequence":  # one row per position; padding rows empty
            ids, weights = keras.ops.expand_dims(ids, -1), keras.ops.expand_dims(weights, -1)
        keep = tf.where(tf.not_equal(ids, 0))
        shape = tf.shape(ids, out_type=tf.int64)
        sparse_ids = tf.SparseTensor(keep, tf.gather_nd(ids, keep), shape)
        sparse_weights = tf.SparseTensor(keep, tf.gather_nd(weights, keep), shape)
        static = ids.shape
        sparse_ids.set_shape(static)
        sparse_weights.set_shape(static)
        return sparse_ids, sparse_weights

    def compute_output_shape(self, input_shape):
        out = {}
        for name, shape in input_shape.items():
            spec = self.specs.get(name)
            if spec is not None:
                batch = tuple(shape)[:1]
                out[name] = (*batch, spec.max_length, self.dims[name]) if spec.kind == "sequence" else (*batch, self.dims[name])
        return out

    def get_config(self):
        # keras-rs serializes the FeatureConfigs (and the tables they share) itself.
        return {
            **super().get_config(),
            "distributed": self.distributed.get_config(),
            "features": [dataclasses.asdict(spec) for spec in self.specs.values()],
            "sparse_inputs": self.sparse_inputs,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        distributed = keras_rs.layers.DistributedEmbedding.from_config(config.pop("distributed"))
        return cls(distributed._feature_configs, table_stacking=getattr(distributed, "_table_stacking", "auto"), **config)

    def get_embedding_tables(self) -> dict[str, "keras.KerasTensor"]:
        """{table name: its full content}, on SparseCore gathered from the shards."""
        return self.distributed.get_embedding_tables()


def _column(x) -> tf.SparseTensor:
    """A (B,) tensor as a (B, 1) SparseTensor holding every entry."""
    rows = tf.range(tf.shape(x, out_type=tf.int64)[0])
    sparse = tf.SparseTensor(tf.stack([rows, tf.zeros_like(rows)], 1), x, tf.stack([tf.size(x, tf.int64), 1]))
    sparse.set_shape((x.shape[0], 1))
    return sparse
