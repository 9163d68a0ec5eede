"""two_tower: a user tower and a candidate tower scored by their dot product, trained as in the
KerasRS data-parallel retrieval tutorial (MSE on ratings) or with in-batch softmax negatives
(`model.loss=softmax`), and scored by full-catalogue retrieval against the most-popular baseline.

The main metric is `test_recall_at_{top_k}` (test_recall_at_10 by default), and runs are ranked
by its validation twin: a retrieval stage exists to put the items a user will like among the k
it hands to a ranker, which is exactly what recall@k measures; an MSE on ratings only says how
well it predicts ratings of pairs it is shown.
"""

from rsx.api import ConfigError, ModelSpec

from .config import TwoTowerConfig


def check(config) -> None:
    """Both towers must end at one width: their dot product is the score (side features keep
    a tower's width: without layers they are projected to it and added)."""
    if config.loss == "sampled_softmax" and list(config.item_features):
        raise ConfigError("model.item_features with model.loss=sampled_softmax is not supported: sampled "
                          "negatives are looked up by id only", "use model.loss=softmax")
    user_width = (list(config.user_layers) or [config.embedding_dim])[-1]
    candidate_width = (list(config.candidate_layers) or [config.embedding_dim])[-1]
    if user_width != candidate_width:
        raise ConfigError(
            f"the user tower ends at width {user_width} but the candidate tower at "
            f"{candidate_width} (model.user_layers={list(config.user_layers)}, "
            f"model.candidate_layers={list(config.candidate_layers)})",
            "make both towers end with the same width: their dot product is the score",
        )


spec = ModelSpec(
    name="two_tower",
    config=TwoTowerConfig,
    implementation="rsx_plugins.two_tower.model:TwoTowerModel",
    description="user tower . item tower: MSE (tutorial) or in-batch softmax; full-catalogue recall/NDCG@k vs most-popular",
    main_metric="test_recall_at_{top_k}",
    greater_is_better=True,
    check=check,
)

__all__ = ["TwoTowerConfig", "spec"]
