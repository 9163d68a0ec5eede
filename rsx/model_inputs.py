"""Declaring a model's inputs from the data's schema: ids plus chosen side features.

Models that read side features (ranking, dcn, dlrm) all turn names from their config into
`FeatureSpec`s and `TableSpec`s the same way, so it lives here once. Framework-free: a
model's `features()`/`tables()` run before anything is built.

    side feature kind (rsx.data.schema)   FeatureSpec kind   input per example       table
    categorical                           id                 () int32                <name>_table
    multi_hot                             multi_hot          (max_length,) int32     <name>_table
    sequence                              sequence           (max_length,) int32     <name>_table
    numeric                               numeric            () float32              none
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence

from rsx.contract import FeatureSpec, OptimizerSpec, TableSpec
from rsx.data.history import HISTORY
from rsx.data.prepared import ITEM_ID, USER_ID, PreparedData
from rsx.errors import ConfigError, DataError

#: SideFeature kind -> FeatureSpec kind.
KINDS = {"categorical": "id", "multi_hot": "multi_hot", "sequence": "sequence", "numeric": "numeric"}

#: What a rating model can predict: the rating in stars, or `rating >= threshold`.
TARGETS = ("regression", "binary")

#: The id features every model reads and their tables (the SparseCore tutorial's names).
ID_TABLES = {USER_ID: "user_table", ITEM_ID: "movie_table"}


@dataclasses.dataclass(frozen=True)
class ModelInputs:
    """What a model reads: its features in input order and the tables behind them.

    Args:
        features: the user and item ids first, then the side features in the order named.
        tables: one table per id feature and per side feature that has ids.
    """

    features: tuple[FeatureSpec, ...]
    tables: tuple[TableSpec, ...]

    @property
    def numeric(self) -> tuple[FeatureSpec, ...]:
        """The features read as values, not looked up."""
        return tuple(f for f in self.features if f.kind == "numeric")

    @property
    def embedded(self) -> tuple[FeatureSpec, ...]:
        """The features looked up in a table, in input order."""
        return tuple(f for f in self.features if f.kind != "numeric")


def side_feature_names(data: PreparedData, names: Optional[Sequence[str]]) -> list[str]:
    """The side features a model config asks for: `names`, or, if None, every one the data
    has but its sequences.

    A sequence (a user's `history`, `data.history_length`) holds, for a training row, the very
    item that row scores, so a pointwise model given it by default would learn from a leak;
    a model takes a sequence only when the config names it.

    Raises:
        DataError: a name is not a side feature of the data (one line naming it).
    """
    if names is None:
        return [f.name for f in data.schema.features if f.kind != "sequence"]
    names = [str(n) for n in names]
    known = [f.name for f in data.schema.features]
    for name in names:
        if name not in known:
            raise DataError(
                f"model.features names '{name}', which is not a side feature of data '{data.name}' "
                f"(it has: {', '.join(known) or 'none'})",
                "set data.history_length=N (the user's latest N training items)" if name == HISTORY
                else f"remove '{name}' from model.features or use data that has it",
            )
    return names


def declare_inputs(
    data: PreparedData,
    names: Optional[Sequence[str]],
    embedding_dim: int,
    optimizer: Optional[OptimizerSpec] = None,
    initializer: Any = "uniform",
    sequences_as_bags: bool = False,
) -> ModelInputs:
    """The user/item ids and the side features `names` (None = all but sequences), with their tables.

    Every table has width `embedding_dim` (DLRM's dot interaction needs one width), is sized
    from the data (`vocabulary_sizes` for ids, `SideFeature.vocabulary_size` for side
    features) and trained by `optimizer` (None: the dense optimizer). Multi-hot tables reduce
    an example's ids by their mean (`TableSpec.combiner`).

    Args:
        data: the prepared data; only its schema and sizes are read.
        names: side feature names from the model config; None takes all the data has but
            its sequences (see `side_feature_names`).
        embedding_dim: width of every table.
        optimizer: the tables' own optimizer.
        initializer: how table rows start (see `TableSpec.initializer`).
        sequences_as_bags: declare sequence features as multi_hot (their table's combiner
            reduces them, order ignored) for models without an order-aware part; the backend
            then never hands back unreduced (batch, max_length, dim) vectors.

    Raises:
        DataError: a named feature is not in the data.
    """
    features = [FeatureSpec(name, table) for name, table in ID_TABLES.items()]
    tables = [
        TableSpec(table, data.vocabulary_sizes[name], embedding_dim, optimizer, initializer=initializer)
        for name, table in ID_TABLES.items()
    ]
    for name in side_feature_names(data, names):
        side = data.schema.feature(name)
        kind = KINDS[side.kind]
        if kind == "sequence" and sequences_as_bags:
            kind = "multi_hot"
        if kind == "numeric":
            features.append(FeatureSpec(name, None, kind="numeric"))
            continue
        table = f"{name}_table"
        features.append(FeatureSpec(name, table, kind=kind, max_length=side.max_length))
        tables.append(TableSpec(table, side.vocabulary_size, embedding_dim, optimizer, initializer=initializer))
    return ModelInputs(tuple(features), tuple(tables))


def check_target(config: Any) -> None:
    """A model config's `target` and `threshold` make sense (spec-level, before any framework).

    Raises:
        ConfigError: an unknown `model.target`.
    """
    if config.target not in TARGETS:
        raise ConfigError(f"model.target={config.target!r} is not one of {', '.join(TARGETS)}",
                          "set model.target=regression (stars, RMSE) or model.target=binary (log-loss, AUC)")
