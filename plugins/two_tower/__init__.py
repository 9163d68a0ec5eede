"""two_tower: a user tower and a candidate tower scored by their dot product, as in the KerasRS
data-parallel retrieval tutorial, with brute-force top-k retrieval over every movie.

Runs are ranked by `test_recall_at_10`: a retrieval stage exists to put the items a user
will like among the k it hands to a ranker, which is exactly what recall@k measures; the
MSE it trains on only says how well it predicts ratings of pairs it is shown.
"""

from rsx.api import ConfigError, ModelSpec

from .config import TwoTowerConfig


def check(config) -> None:
    """Both towers must end at one width: their dot product is the score."""
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
    description="user tower . movie tower -> rating (MSE); brute-force top-k, recall/ndcg@k",
    main_metric="test_recall_at_10",
    greater_is_better=True,
    check=check,
)

__all__ = ["TwoTowerConfig", "spec"]
