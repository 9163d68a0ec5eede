"""Config of the two_tower retrieval model (`model=two_tower`)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from rsx.api import OptimizerConfig


@dataclasses.dataclass
class TwoTowerConfig:
    # Plugin name; selects this model.
    name: str = "two_tower"
    # Width of the user and candidate (movie) embeddings.
    embedding_dim: int = 32
    # Units of Dense layers stacked on the user embedding; [] = the embedding is the query.
    user_layers: list[int] = dataclasses.field(default_factory=list)
    # Units of Dense layers stacked on the movie embedding; the last width must match the
    # user tower's output (the score is their dot product).
    candidate_layers: list[int] = dataclasses.field(default_factory=list)
    # Activation of every tower layer but the last, which stays linear.
    activation: str = "relu"
    # Optimizer of the dense layers and of tables without their own. Adam 0.01 learns in a few
    # epochs; the tutorial's Adagrad 0.2 (experiment=seed_retrieval) sits near its starting
    # point for about 20 epochs, since both towers start near zero.
    optimizer: OptimizerConfig = dataclasses.field(default_factory=lambda: OptimizerConfig("adam", 0.01))
    # The embedding tables' own optimizer; null = tables trained by `optimizer`.
    table_optimizer: Optional[OptimizerConfig] = None
    # How many candidates brute-force retrieval returns; the metrics are recall/ndcg at this k.
    top_k: int = 10
    # A test-split item is relevant to its user when rated at least this (1..5 scale).
    relevant_rating: float = 4.0
    # Rank only movies the user did not rate in the training split (metrics and artifact).
    exclude_seen: bool = True
    # Users whose top-k titles go into the `top_k.txt` / `top_k.json` artifacts.
    sample_users: list[int] = dataclasses.field(default_factory=lambda: [1, 2, 3, 4, 5])
