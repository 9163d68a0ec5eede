"""Config of the two_tower retrieval model (`model=two_tower`)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from rsx.api import OptimizerConfig

#: Training objectives (see plugins/two_tower/README.md).
LOSSES = ("mse", "softmax", "sampled_softmax")
#: Where sampled_softmax draws its extra negatives from.
NEGATIVE_SAMPLERS = ("uniform", "popularity")


@dataclasses.dataclass
class TwoTowerConfig:
    # Plugin name; selects this model.
    name: str = "two_tower"
    # Width of the user and candidate (item) embeddings.
    embedding_dim: int = 32
    # Side features of the user tower: names of per-user side features in the data's schema
    # (categorical -> an embedding, multi_hot and sequence (e.g. a history of items) -> the
    # mean of their ids' embeddings, numeric -> the value). With `user_layers` they are
    # concatenated with the user id's embedding before the layers; without, a linear
    # projection of them to `embedding_dim` is added to it (the tower keeps its width).
    user_features: list[str] = dataclasses.field(default_factory=list)
    # Side features of the candidate tower: per-item features (e.g. genres, tags, year), as
    # `user_features` (with `candidate_layers`). Retrieval feeds every item's row of them.
    item_features: list[str] = dataclasses.field(default_factory=list)
    # Units of Dense layers stacked on the user embedding; [] = the embedding is the query.
    user_layers: list[int] = dataclasses.field(default_factory=list)
    # Units of Dense layers stacked on the item embedding; the last width must match the
    # user tower's output (the score is their dot product).
    candidate_layers: list[int] = dataclasses.field(default_factory=list)
    # Activation of every tower layer but the last, which stays linear.
    activation: str = "relu"
    # L2-normalize both towers' outputs (the score becomes a cosine; pair with a temperature).
    normalize: bool = False
    # Optimizer of the dense layers and of tables without their own. Adam 0.01 learns in a few
    # epochs; the tutorial's Adagrad 0.2 (experiment=seed_retrieval) sits near its starting
    # point for about 20 epochs, since both towers start near zero.
    optimizer: OptimizerConfig = dataclasses.field(default_factory=lambda: OptimizerConfig("adam", 0.01))
    # The embedding tables' own optimizer; null = tables trained by `optimizer`.
    table_optimizer: Optional[OptimizerConfig] = None
    # Objective: mse (the tutorial: the dot product regresses (rating - 1) / 4) | softmax
    # (in-batch negatives: each query against every candidate of its batch, the diagonal is
    # the positive) | sampled_softmax (in-batch plus `num_negatives` sampled candidates).
    # The softmax losses train on the rows with rating >= data.min_rating (implicit feedback).
    loss: str = "mse"
    # Train only on the rows rated at least this (implicit feedback: a well-rated row is a
    # positive); null = every training row. Unlike data.min_rating, which drops rows before
    # the split, evaluation still sees every row (seen items, relevance rules, baselines).
    train_min_rating: Optional[float] = None
    # Softmax losses: logits are divided by it (small with `normalize`, e.g. 0.05).
    temperature: float = 1.0
    # Softmax losses: subtract log(expected count of the candidate among the negatives) from
    # its logit (logQ correction; in-batch: the item's share of the training rows), so popular
    # items are not pushed down just for being everyone's negative.
    logq_correction: bool = True
    # Softmax losses: a candidate equal to the row's positive item is not a negative.
    remove_accidental_hits: bool = True
    # sampled_softmax: extra negatives drawn per batch (shared by every query of the batch).
    num_negatives: int = 0
    # sampled_softmax: draw them uniformly over the catalogue or by training popularity.
    negative_sampler: str = "uniform"
    # Softmax losses: keep only the `num_hard_negatives` highest-scoring negatives of each
    # query (keras-rs HardNegativeMining); 0 = every negative.
    num_hard_negatives: int = 0
    # How many candidates brute-force retrieval returns in the top-k artifact.
    top_k: int = 10
    # Retrieval metrics (validation every trainer.validation_freq epochs, test at the end):
    # recall, ndcg, mrr, precision and hit rate at each of these k.
    metrics_k: list[int] = dataclasses.field(default_factory=lambda: [10, 20, 50])
    # A held-out item is relevant when: rating_at_least (rated >= relevant_rating) | all.
    relevance: str = "rating_at_least"
    # The threshold of relevance=rating_at_least (original rating scale).
    relevant_rating: float = 4.0
    # Rank only items the user did not interact with in training (metrics and artifact).
    exclude_seen: bool = True
    # Users whose top-k titles go into the `top_k.txt` / `top_k.json` artifacts.
    sample_users: list[int] = dataclasses.field(default_factory=lambda: [1, 2, 3, 4, 5])


def check_config(config) -> None:
    """ConfigError (naming the key) for values of the right type that make no sense; imports
    no framework. Checks needing the data (k or negatives past the catalogue) run in the model."""
    from rsx.api import ConfigError

    checks = [
        ("loss", config.loss in LOSSES, f"one of: {', '.join(LOSSES)}"),
        ("negative_sampler", config.negative_sampler in NEGATIVE_SAMPLERS, f"one of: {', '.join(NEGATIVE_SAMPLERS)}"),
        ("temperature", config.temperature > 0, "a number > 0"),
        ("num_negatives", config.num_negatives >= 0, "0 or more"),
        ("num_hard_negatives", config.num_hard_negatives >= 0, "0 or more (0 = off)"),
        ("top_k", config.top_k >= 1, ">= 1"),
        ("metrics_k", len(config.metrics_k) > 0 and all(k >= 1 for k in config.metrics_k), "a list of k >= 1"),
    ]
    for key, ok, wanted in checks:
        if not ok:
            raise ConfigError(f"model.{key}={getattr(config, key)!r} is not valid", f"set model.{key} to {wanted}")
    if config.loss == "sampled_softmax" and config.num_negatives == 0:
        raise ConfigError("model.loss=sampled_softmax with model.num_negatives=0",
                          "set model.num_negatives > 0, or use model.loss=softmax")
