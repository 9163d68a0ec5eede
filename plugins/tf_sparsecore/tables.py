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
) -> dict[str, keras_rs.layers.FeatureConfig]:
    """{feature name: `FeatureConfig`}: ids of shape (global batch,) -> (global batch, dim).

    Features that share a `TableSpec` share one `TableConfig` object, which is how keras-rs
    knows they look up the same table. On SparseCore the shapes are the *global* batch: all
    replicas' examples of one step.
    """
    configs = {
        t.name: table_config(t, dense, placement, max_ids_per_partition, max_unique_ids_per_partition)
        for t in tables
    }
    found = {}
    for feature in features:
        table = configs[feature.table]
        found[feature.name] = keras_rs.layers.FeatureConfig(
            name=feature.name,
            table=table,
            input_shape=(global_batch_size,),
            output_shape=(global_batch_size, table.embedding_dim),
        )
    return found
