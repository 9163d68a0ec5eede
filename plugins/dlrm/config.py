"""Config of the DLRM model (`model=dlrm`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from rsx.api import OptimizerConfig


@dataclasses.dataclass
class DlrmConfig:
    # Plugin name; selects this model.
    name: str = "dlrm"
    # Side features of the data (its schema's names, e.g. [genres, tags, year]) beside the user
    # and item ids; null = every side feature the data has, [] = ids only.
    features: Optional[list[str]] = None
    # Width of every embedding table and of the bottom MLP's output (the dot interaction
    # multiplies them pairwise, so they share one width).
    embedding_dim: int = 16
    # How table rows start: a Keras initializer name or a serialized one.
    embeddings_initializer: Any = "uniform"
    # Hidden units of the bottom MLP over the numeric features (a last layer of
    # embedding_dim units is added); unused when the model reads no numeric feature.
    bottom_units: list[int] = dataclasses.field(default_factory=lambda: [64])
    # Units of the top MLP over [bottom output, pairwise dot products].
    top_units: list[int] = dataclasses.field(default_factory=lambda: [256, 128])
    # Activation of both MLPs.
    activation: str = "relu"
    # Include each vector's dot product with itself (keras_rs DotInteraction self_interaction).
    self_interaction: bool = False
    # "regression": predict the rating in stars (MSE loss, RMSE metric); "binary": predict
    # the probability that rating >= threshold (log-loss loss; AUC and log-loss metrics).
    target: str = "regression"
    # Binary target: the lowest rating that counts as liked, in the rating's units.
    threshold: float = 4.0
    # Optimizer of the dense layers (the compile optimizer).
    optimizer: OptimizerConfig = dataclasses.field(default_factory=lambda: OptimizerConfig("adam", 0.001))
    # The embedding tables' own optimizer; null = tables trained by `optimizer`.
    table_optimizer: Optional[OptimizerConfig] = None


def check(config: DlrmConfig) -> None:
    """Rejects impossible settings before any framework starts (one line naming the key)."""
    from rsx.api import check_target

    check_target(config)
