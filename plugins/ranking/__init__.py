"""ranking: user and movie embeddings -> MLP -> rating, as in the KerasRS SparseCore tutorial."""

from rsx.api import ModelSpec

from .config import RankingConfig

spec = ModelSpec(
    name="ranking",
    config=RankingConfig,
    implementation="rsx_plugins.ranking.model:RankingModel",
    description="user/item embeddings (+ side features) -> MLP -> rating (MSE, RMSE)",
    main_metric="test_rmse",
)
