"""Keras tables realizing every `FeatureSpec` kind: the reference every backend is held to.

One `keras_rs.layers.EmbedReduce` per table (an `Embedding` that reduces 2-D ids with the
table's combiner). Padding id 0 is masked through EmbedReduce's weights, so the combiners are
TensorFlow's `embedding_lookup_sparse` ones over the non-padding ids only:

    mean  = sum_i w_i e_i / sum_i w_i        sum = sum_i w_i e_i
    sqrtn = sum_i w_i e_i / sqrt(sum_i w_i^2)        (w_i = 0 at padding; 0/0 -> 0)
"""

from __future__ import annotations

import dataclasses

import keras
import keras_rs
from keras import ops

from rsx.contract import FeatureSpec, OptimizerSpec, TableSpec


@keras.saving.register_keras_serializable(package="rsx")
class EmbeddingLookup(keras.layers.Layer):
    """Looks each feature's ids up in its table, shaped per kind as `FeatureSpec` says.

    Several features may share a table. Each table layer is named after its `TableSpec`,
    which is how `TableRoutedOptimizer` finds a table's variables.

    Args:
        tables: the tables to create.
        features: the model's features (numeric ones are ignored); which table each is
            looked up in, its kind and weights column.

    Call with {feature: ids} for any subset of the features, plus {weights column: weights}
    for weighted multi_hot features; returns {feature: vectors}:
    id (batch,) -> (batch, dim); multi_hot (batch, L) -> (batch, dim);
    sequence (batch, L) -> (batch, L, dim) with zero vectors at padding.

    Example:

    ```python
    lookup = EmbeddingLookup(
        [TableSpec("genre", 20, 4, combiner="sqrtn")],
        [FeatureSpec("genres", "genre", "multi_hot", max_length=3)],
    )
    lookup({"genres": keras.ops.array([[4, 9, 0]])})["genres"].shape  # (1, 4)
    ```
    """

    def __init__(self, tables, features, **kwargs):
        super().__init__(**kwargs)
        self.table_specs = [t if isinstance(t, TableSpec) else _table(t) for t in tables]
        self.feature_specs = [f if isinstance(f, FeatureSpec) else FeatureSpec(**f) for f in features]
        self.tables = {
            t.name: keras_rs.layers.EmbedReduce(
                t.vocabulary_size,
                t.embedding_dim,
                embeddings_initializer=t.initializer,
                combiner=t.combiner,
                name=t.name,
            )
            for t in self.table_specs
        }
        self.specs = {f.name: f for f in self.feature_specs if f.table is not None}

    def build(self, input_shape):
        for table in self.tables.values():
            table.build((None,))
        self.built = True

    def call(self, inputs):
        return {
            name: lookup(self.tables[spec.table], spec, inputs[name], inputs.get(spec.weights))
            for name, spec in self.specs.items()
            if name in inputs
        }

    def compute_output_shape(self, input_shape):
        dims = {t.name: t.embedding_dim for t in self.table_specs}
        return {
            name: output_shape(spec, tuple(input_shape[name]), dims[spec.table])
            for name, spec in self.specs.items()
            if name in input_shape
        }

    def get_config(self):
        return {
            **super().get_config(),
            "tables": [dataclasses.asdict(t) for t in self.table_specs],
            "features": [dataclasses.asdict(f) for f in self.feature_specs],
        }


def lookup(table: keras_rs.layers.EmbedReduce, spec: FeatureSpec, ids, weights=None):
    """One feature's vectors from `table`, shaped for its kind (see `EmbeddingLookup`).

    Shared by every backend whose tables are Keras `EmbedReduce` layers (cpu_reference,
    jax_dataparallel, sharded or not).
    """
    if spec.kind == "id":
        return table(ids)
    present = ops.cast(ops.not_equal(ids, 0), table.compute_dtype)
    if spec.kind == "multi_hot":
        weights = present if weights is None else ops.multiply(present, ops.cast(weights, present.dtype))
        return table(ids, weights=weights)
    # sequence: 1-D ids are looked up without reduction; padding positions become zeros.
    vectors = table(ops.reshape(ids, (-1,)))
    vectors = ops.reshape(vectors, (-1, ids.shape[1], table.output_dim))
    return ops.multiply(vectors, ops.expand_dims(present, -1))


def output_shape(spec: FeatureSpec, ids_shape: tuple, dim: int) -> tuple:
    """The shape `lookup` returns for ids of `ids_shape`."""
    if spec.kind == "sequence":
        return (*ids_shape, dim)
    return (ids_shape[0], dim)


def _table(config: dict) -> TableSpec:
    optimizer = config.get("optimizer")
    return TableSpec(**{**config, "optimizer": OptimizerSpec(**optimizer) if optimizer else None})
