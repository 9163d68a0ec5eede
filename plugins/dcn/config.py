"""Config of the DCN-v2 model (`model=dcn`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from rsx.api import OptimizerConfig


@dataclasses.dataclass
class DcnConfig:
    # Plugin name; selects this model.
    name: str = "dcn"
    # Side features of the data (its schema's names, e.g. [genres, tags, year]) beside the user
    # and item ids; null = every side feature the data has, [] = ids only.
    features: Optional[list[str]] = None
    # Width of every embedding table (ids and side features alike).
    embedding_dim: int = 16
    # How table rows start: a Keras initializer name or a serialized one.
    embeddings_initializer: Any = "uniform"
    # Cross layers (keras_rs.layers.FeatureCross); each adds one order of feature interaction.
    cross_layers: int = 2
    # "stacked": cross layers feed the deep layers; "parallel": both read the input and their
    # outputs are concatenated (the DCN-v2 paper's two structures).
    structure: str = "stacked"
    # Low-rank cross layers: W = U V with inner dimension projection_dim; null = full rank.
    projection_dim: Optional[int] = None
    # Units of the deep (Dense) layers.
    deep_units: list[int] = dataclasses.field(default_factory=lambda: [256, 128])
    # Activation of the deep layers.
    activation: str = "relu"
    # Dropout after each deep layer (0 = none).
    dropout: float = 0.0
    # "regression": predict the rating in stars (MSE loss, RMSE metric); "binary": predict
    # the probability that rating >= threshold (log-loss loss; AUC and log-loss metrics).
    target: str = "regression"
    # Binary target: the lowest rating that counts as liked, in the rating's units.
    threshold: float = 4.0
    # Optimizer of the dense layers (the compile optimizer).
    optimizer: OptimizerConfig = dataclasses.field(default_factory=lambda: OptimizerConfig("adam", 0.001))
    # The embedding tables' own optimizer; null = tables trained by `optimizer`.
    table_optimizer: Optional[OptimizerConfig] = None


STRUCTURES = ("stacked", "parallel")


def check(config: DcnConfig) -> None:
    """Rejects impossible settings before any framework starts (one line naming the key)."""
    from rsx.api import ConfigError, check_target

    check_target(config)
    if config.structure not in STRUCTURES:
        raise ConfigError(f"model.structure={config.structure!r} is not one of {', '.join(STRUCTURES)}",
                          "set model.structure=stacked or model.structure=parallel")
    if config.cross_layers < 1:
        raise ConfigError(f"model.cross_layers={config.cross_layers} leaves DCN without a cross network",
                          "set model.cross_layers=1 or more (or use model=ranking for an MLP)")
    if config.projection_dim is not None and config.projection_dim < 1:
        raise ConfigError(f"model.projection_dim={config.projection_dim} must be positive",
                          "set model.projection_dim=null (full rank) or a positive rank")
    if not 0.0 <= config.dropout < 1.0:
        raise ConfigError(f"model.dropout={config.dropout} is outside [0, 1)", "set model.dropout=0.1, say")
