"""two_tower: a user tower and a candidate tower scored by their dot product, as in the KerasRS
data-parallel retrieval tutorial, with brute-force top-k retrieval over every movie.

Runs are ranked by `test_recall_at_{top_k}` (test_recall_at_10 by default): a retrieval stage
exists to put the items a user will like among the k it hands to a ranker, which is exactly
what recall@k measures; the MSE it trains on only says how well it predicts ratings of pairs
it is shown.
"""

from rsx.api import ModelSpec

from .config import TwoTowerConfig

spec = ModelSpec(
    name="two_tower",
    config=TwoTowerConfig,
    implementation="rsx_plugins.two_tower.model:TwoTowerModel",
    description="user tower . movie tower -> rating (MSE); brute-force top-k, recall/ndcg@k",
    main_metric="test_recall_at_{top_k}",
    greater_is_better=True,
)

__all__ = ["TwoTowerConfig", "spec"]
