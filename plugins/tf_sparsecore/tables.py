"""The model's `TableSpec`s/`FeatureSpec`s as keras-rs `TableConfig`s/`FeatureConfig`s."""

from __future__ import annotations

import keras
import keras_rs

from rsx.api import FeatureSpec, OptimizerSpec, TableSpec
from rsx.api.engine import make_optimizer

#: Where keras-rs puts a table: on the SparseCore chips, or as a plain variable on the device.
SPARSECORE = "sparsecore"
DEFAULT_DEVICE = "default_device"


def table_config(
    table: TableSpec,
    dense: OptimizerSpec,
    placement: str,
    max_ids_per_partition: int = 256,
    max_unique_ids_per_partition: int = 256,
) -> keras_rs.layers.TableConfig:
    """One `TableConfig`, trained by the table's own optimizer (or `dense` when it has none).

    Args:
        table: the model's declaration.
        dense: the dense optimizer's spec, used for a table that declares no optimizer.
        placement: "sparsecore" or "default_device".
        max_ids_per_partition: SparseCore buffer size: ids per partition per step.
        max_unique_ids_per_partition: SparseCore buffer size: distinct ids per partition per step.
    """
    return keras_rs.layers.TableConfig(
        name=table.name,
        vocabulary_size=table.vocabulary_size,
        embedding_dim=table.embedding_dim,
        initializer=keras.initializers.get(table.initializer),
        optimizer=make_optimizer(table.optimizer or dense),
        combiner=table.combiner,
        placement=placement,
        max_ids_per_partition=max_ids_per_partition,
        max_unique_ids_per_partition=max_unique_ids_per_partition,
    )


def feature_configs(
    tables: list[TableSpec],
    features: list[FeatureSpec],
    global_batch_size: int,
    dense: OptimizerSpec,
    placement: str,
    max_ids_per_partition: int = 256,
    max_unique_ids_per_partition: int = 256,
    sparse_inputs: bool = False,
) -> dict[str, keras_rs.layers.FeatureConfig]:
    """{feature name: `FeatureConfig`} for every feature with a table, shaped per kind.

    On SparseCore the shapes are the *global* batch B (all replicas' examples of one step):

        kind       input_shape                       output_shape
        id         (B,), or (B, 1) sparse            (B, dim)
        multi_hot  (B, max_length), sparse or dense  (B, dim): reduced by the table's combiner
        sequence   (B * max_length,), or (B * max_length, 1) sparse
                                                     (B * max_length, dim): one row per
                                                     position, reshaped by `DistributedLookup`

    A sequence is looked up position by position (keras-rs 0.4.0 passes no
    `max_sequence_length` to TensorFlow's TPUEmbedding), so each position is an example of
    at most one id, which every combiner returns unchanged.

    Features that share a `TableSpec` share one `TableConfig` object, which is how keras-rs
    knows they look up the same table.
    """
    configs = {
        t.name: table_config(t, dense, placement, max_ids_per_partition, max_unique_ids_per_partition)
        for t in tables
    }
    found = {}
    for feature in features:
        if feature.table is None:
            continue  # numeric: read by the model directly
        table = configs[feature.table]
        rows = global_batch_size * (feature.max_length if feature.kind == "sequence" else 1)
        if feature.kind == "multi_hot":
            input_shape = (rows, feature.max_length)
        else:
            input_shape = (rows, 1) if sparse_inputs else (rows,)
        found[feature.name] = keras_rs.layers.FeatureConfig(
            name=feature.name,
            table=table,
            input_shape=input_shape,
            output_shape=(rows, table.embedding_dim),
        )
    return found
