"""The engine reads each model feature through `PreparedData.columns` and checks it per kind."""

import logging

import numpy as np
import pytest

from rsx.contract import FeatureSpec, TableSpec
from rsx.data.prepared import PreparedData
from rsx.engine.inputs import input_names, model_columns
from rsx.errors import ConfigError, DataError, PluginError

GENRES = np.array([[0, 0, 0], [1, 2, 0], [3, 0, 0], [1, 2, 3]], "int32")  # item rows 0..3
TABLES = [TableSpec("genre", 4, 2), TableSpec("item", 4, 2)]


def _data(year=(0.0, 1.0, -1.0, 0.5)):
    split = {
        "user_id": np.array([1, 2, 1, 2], "int32"),
        "item_id": np.array([1, 2, 3, 3], "int32"),
        "label": np.array([0.1, 0.2, 0.3, 0.4], "float32"),
    }
    items = {"genres": GENRES, "year": np.array(year, "float32"), "genre_weights": GENRES / 3.0}
    return PreparedData("tiny", split, dict(split), {"user_id": 3, "item_id": 4}, np.array([""] * 4),
                        item_features=items)


def test_each_kind_comes_back_shaped_and_typed():
    features = [
        FeatureSpec("item_id", "item"),
        FeatureSpec("genres", "genre", "multi_hot", max_length=4, weights="genre_weights"),
        FeatureSpec("year", kind="numeric"),
    ]
    columns = model_columns(features, TABLES, _data(), "train", "label")
    assert input_names(features) == ["item_id", "genres", "genre_weights", "year"]
    assert columns["item_id"].dtype == np.int32 and columns["item_id"].shape == (4,)
    # Gathered per interaction by item id, padded from width 3 to max_length 4 with 0.
    np.testing.assert_array_equal(columns["genres"], [[1, 2, 0, 0], [3, 0, 0, 0], [1, 2, 3, 0], [1, 2, 3, 0]])
    assert columns["genre_weights"].shape == (4, 4) and columns["genre_weights"].dtype == np.float32
    np.testing.assert_allclose(columns["year"], [1.0, -1.0, 0.5, 0.5])


def test_too_long_multi_hot_is_truncated_with_a_count_or_rejected(caplog):
    feature = FeatureSpec("genres", "genre", "multi_hot", max_length=2, weights="genre_weights")
    with caplog.at_level(logging.WARNING, logger="rsx"):
        columns = model_columns([feature], TABLES, _data(), "train", "label")
    np.testing.assert_array_equal(columns["genres"], [[1, 2], [3, 0], [1, 2], [1, 2]])
    np.testing.assert_allclose(columns["genre_weights"], columns["genres"] / 3.0)  # weights follow the cut
    assert "'genres': 2 of 4 train rows have more than 2 ids" in caplog.text
    with pytest.raises(DataError, match=r"^model feature 'genres' has 2 rows .* more than max_length=2"):
        model_columns([feature], TABLES, _data(), "train", "label", overflow="error")
    with pytest.raises(ConfigError, match="trainer.feature_overflow"):
        model_columns([feature], TABLES, _data(), "train", "label", overflow="drop")


def test_too_long_sequence_keeps_its_latest_ids():
    feature = FeatureSpec("genres", "genre", "sequence", max_length=2)
    columns = model_columns([feature], TABLES, _data(), "train", "label")
    np.testing.assert_array_equal(columns["genres"], [[1, 2], [3, 0], [2, 3], [2, 3]])


@pytest.mark.parametrize(
    "feature, message",
    [
        (FeatureSpec("year", kind="numeric"), r"^model feature 'year' has 1 NaN/inf values in the train split"),
        (FeatureSpec("age", kind="numeric"), r"^model feature 'age' is not in data 'tiny' -> use one of"),
        (FeatureSpec("item_id", "genre"), r"^model feature 'item_id' has id 3 in the train split, outside table 'genre' of 3 rows"),
        (FeatureSpec("genres", "item", "sequence", 3), None),
    ],
)
def test_bad_columns_fail_in_one_line_naming_the_feature(feature, message):
    data = _data(year=(0.0, 1.0, np.nan, 0.5))
    if message is None:  # Same ids, a table big enough: no error.
        model_columns([feature], TABLES, data, "train", "label")
        return
    with pytest.raises(DataError, match=message) as error:
        model_columns([feature], [TableSpec("genre", 3, 2), TABLES[1]], data, "train", "label")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"table": "t", "kind": "bag"}, "has unknown kind 'bag'"),
        ({"kind": "numeric", "table": "t"}, "is numeric but names table 't'"),
        ({"kind": "multi_hot"}, "of kind 'multi_hot' names no table"),
        ({"table": "t", "max_length": 3}, "of kind 'id' has max_length=3"),
        ({"table": "t", "kind": "sequence", "max_length": 3, "weights": "w"}, "of kind 'sequence' has weights"),
    ],
)
def test_feature_spec_rejects_a_kind_it_cannot_be(fields, message):
    with pytest.raises(PluginError, match=f"^model feature 'f' {message}"):
        FeatureSpec("f", **fields)


def test_a_backend_written_before_kinds_rejects_a_multi_hot_feature_in_one_line():
    from rsx.contract import BackendPlugin, ModelPlugin
    from rsx.engine.inputs import check_backend_realizes

    class V1Backend(BackendPlugin):  # declares no feature_kinds: ids (and numeric) only
        setup = embeddings = optimizer = dataset = None

    class Model(ModelPlugin):
        def features(self):
            return [FeatureSpec("item_id", "item"), FeatureSpec("genres", "genre", "multi_hot", 3)]

        tables = build = None

    backend, model = V1Backend(None), Model(None, _data())
    with pytest.raises(PluginError, match=r"^model feature 'genres' is multi_hot, which backend 'old' does not realize"):
        check_backend_realizes(backend, "old", model)
    backend.feature_kinds = ("id", "multi_hot", "numeric", "sequence")
    check_backend_realizes(backend, "old", model)
