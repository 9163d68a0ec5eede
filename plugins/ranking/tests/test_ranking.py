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


def test_side_features_join_the_ids_with_their_own_tables():
    from rsx.testing.side_features import side_feature_data

    data = side_feature_data(rows=100)
    config = OmegaConf.merge(OmegaConf.structured(RankingConfig()), {"features": ["genres", "year", "occupation"]})
    model = RankingModel(config, data)
    assert [(f.name, f.kind, f.table, f.max_length) for f in model.features()] == [
        ("user_id", "id", "user_table", 1),
        ("item_id", "id", "movie_table", 1),
        ("genres", "multi_hot", "genres_table", 3),
        ("year", "numeric", None, 1),
        ("occupation", "id", "occupation_table", 1),
    ]
    tables = {t.name: t.vocabulary_size for t in model.tables()}
    assert tables == {"user_table": 41, "movie_table": 61, "genres_table": 6, "occupation_table": 4}


def test_a_feature_missing_from_the_data_is_one_line_naming_it():
    import pytest

    from rsx.api import DataError
    from rsx.testing.side_features import side_feature_data

    config = OmegaConf.merge(OmegaConf.structured(RankingConfig()), {"features": ["genres", "tags"]})
    with pytest.raises(DataError) as error:
        RankingModel(config, side_feature_data(rows=100))
    assert "'tags'" in str(error.value) and "model.features" in str(error.value)
    assert "\n" not in str(error.value)
