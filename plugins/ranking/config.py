"""Config of the ranking model (`model=ranking`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from rsx.api import OptimizerConfig

#: keras-rs `TableConfig`'s default initializer, which the SparseCore tutorial's tables use.
TUTORIAL_INITIALIZER = {"class_name": "VarianceScaling", "config": {"mode": "fan_out"}}


@dataclasses.dataclass
class RankingConfig:
    # Plugin name; selects this model.
    name: str = "ranking"
    # Side features of the data (its schema's names, e.g. [genres, year]) whose embeddings
    # or values join the user and item embeddings before the MLP; [] = ids only (the tutorial).
    features: list[str] = dataclasses.field(default_factory=list)
    # Width of the user and movie embeddings (and of the side features' tables).
    embedding_dim: int = 32
    # How table rows start: a Keras initializer name ("uniform") or a serialized one
    # ({class_name: ..., config: {...}}); the default is the tutorial's (keras-rs TableConfig's).
    embeddings_initializer: Any = dataclasses.field(default_factory=lambda: dict(TUTORIAL_INITIALIZER))
    # Units of the hidden Dense layers between the embeddings and the rating.
    hidden_units: list[int] = dataclasses.field(default_factory=lambda: [256, 64])
    # Activation of the hidden layers.
    activation: str = "relu"
    # Optimizer of the dense layers (the compile optimizer).
    optimizer: OptimizerConfig = dataclasses.field(default_factory=lambda: OptimizerConfig("adagrad", 0.001))
    # The embedding tables' own optimizer; null = tables trained by `optimizer`.
    table_optimizer: Optional[OptimizerConfig] = dataclasses.field(
        default_factory=lambda: OptimizerConfig("adam", 0.001)
    )
