"""ranking passes the model conformance suite and declares the tutorial's tables."""

from omegaconf import OmegaConf

from rsx.api import PreparedData
from rsx.testing.conformance import ModelConformance
from rsx_plugins.ranking.config import RankingConfig
from rsx_plugins.ranking.model import RankingModel


class TestRankingConformance(ModelConformance):
    model = "ranking"


def _data(users=943, movies=1682):
    import numpy as np

    return PreparedData("d", {}, {}, {"user_id": users + 1, "item_id": movies + 1}, np.array([""]))


def test_tables_are_sized_from_the_data_and_carry_their_optimizer():
    model = RankingModel(OmegaConf.structured(RankingConfig()), _data())
    tables = {t.name: t for t in model.tables()}
    assert tables["user_table"].vocabulary_size == 944
    assert tables["movie_table"].vocabulary_size == 1683
    assert {t.embedding_dim for t in tables.values()} == {32}
    assert {t.optimizer.name for t in tables.values()} == {"adam"}
    assert model.optimizer().name == "adagrad"
    assert [(f.name, f.table) for f in model.features()] == [("user_id", "user_table"), ("item_id", "movie_table")]


def test_null_table_optimizer_leaves_tables_to_the_dense_optimizer():
    config = OmegaConf.structured(RankingConfig(table_optimizer=None))
    assert {t.optimizer for t in RankingModel(config, _data()).tables()} == {None}


def test_tables_start_like_the_tutorials_unless_configured():
    model = RankingModel(OmegaConf.structured(RankingConfig()), _data())
    assert {str(t.initializer) for t in model.tables()} == {
        str({"class_name": "VarianceScaling", "config": {"mode": "fan_out"}})
    }
    config = OmegaConf.merge(OmegaConf.structured(RankingConfig()), {"embeddings_initializer": "uniform"})
    assert {t.initializer for t in RankingModel(config, _data()).tables()} == {"uniform"}
