"""Plain `keras.layers.Embedding` tables: the simplest correct realization of `TableSpec`s."""

from __future__ import annotations

import keras

from rsx.contract import FeatureSpec, TableSpec


@keras.saving.register_keras_serializable(package="rsx")
class EmbeddingLookup(keras.layers.Layer):
    """Looks each feature's ids up in its table; one `Embedding` layer per table.

    Several features may share a table. Each table layer is named after its `TableSpec`,
    which is how `TableRoutedOptimizer` finds a table's variables.

    Args:
        tables: the tables to create.
        features: which table each input feature is looked up in.

    Example:

    ```python
    lookup = EmbeddingLookup([TableSpec("t", 10, 4)], [FeatureSpec("user_id", "t")])
    lookup({"user_id": keras.ops.array([1, 2])})["user_id"].shape  # (2, 4)
    ```
    """

    def __init__(self, tables, features, **kwargs):
        super().__init__(**kwargs)
        self.table_specs = [t if isinstance(t, TableSpec) else _table(t) for t in tables]
        self.feature_specs = [f if isinstance(f, FeatureSpec) else FeatureSpec(**f) for f in features]
        self.tables = {
            t.name: keras.layers.Embedding(
                t.vocabulary_size,
                t.embedding_dim,
                embeddings_initializer=t.initializer,
                name=t.name,
            )
            for t in self.table_specs
        }
        self.feature_table = {f.name: f.table for f in self.feature_specs}

    def build(self, input_shape):
        for name, shape in input_shape.items():
            self.tables[self.feature_table[name]].build(shape)
        self.built = True

    def call(self, inputs):
        return {name: self.tables[self.feature_table[name]](ids) for name, ids in inputs.items()}

    def compute_output_shape(self, input_shape):
        dims = {t.name: t.embedding_dim for t in self.table_specs}
        return {
            name: tuple(shape) + (dims[self.feature_table[name]],)
            for name, shape in input_shape.items()
        }

    def get_config(self):
        import dataclasses

        return {
            **super().get_config(),
            "tables": [dataclasses.asdict(t) for t in self.table_specs],
            "features": [dataclasses.asdict(f) for f in self.feature_specs],
        }


def _table(config: dict) -> TableSpec:
    from rsx.contract import OptimizerSpec

    optimizer = config.get("optimizer")
    return TableSpec(**{**config, "optimizer": OptimizerSpec(**optimizer) if optimizer else None})
