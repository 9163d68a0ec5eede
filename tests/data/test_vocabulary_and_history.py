"""Which ids get table rows (`data.vocabulary_from`) and users' histories (`data.history_length`),
on a hand-made frame whose split is known row by row (leave_one_out by time)."""

import numpy as np
import pandas as pd
import pytest

from rsx.api import FeatureColumn, Interactions, prepare_interactions
from rsx.config import DatasetConfig
from rsx.errors import ConfigError

# Users a, b, c; items by raw id. leave_one_out: each user's latest row is test, the one before
# validation (a user needs 3 rows for both). c has 1 row: it stays in train.
ROWS = [  # user, item, time
    ("a", 10, 5), ("a", 20, 2), ("a", 30, 9), ("a", 40, 7), ("a", 50, 7), ("a", 60, 11),
    ("b", 20, 1), ("b", 70, 3), ("b", 80, 4),
    ("c", 10, 8),
]


def _prepare(**fields):
    frame = pd.DataFrame(ROWS, columns=["user", "item", "time"]).assign(stars=4.0)
    items = pd.DataFrame({"kind": [f"k{i}" for i in (10, 20, 30, 40, 50, 60, 70, 80)]},
                         index=[10, 20, 30, 40, 50, 60, 70, 80])
    cfg = DatasetConfig(name="tiny", split="leave_one_out", **fields)
    return prepare_interactions(Interactions(frame=frame, user="user", item="item", rating="stars",
                                             timestamp="time", items=items, rating_scale=(1.0, 5.0),
                                             features=(FeatureColumn("kind", "categorical", "item"),)), cfg)


def _raw(data, split, column="item_id"):
    return data.vocabularies[column][data.split(split)[column]].tolist()


def test_vocabulary_from_all_gives_held_out_items_their_own_rows():
    data = _prepare()
    # Held out: a's 60 (test), 30 (validation); b's 80 (test), 70 (validation). 60, 70, 80, 30
    # never occur in train and still get rows, in raw id order; cold counts stay against train.
    assert data.vocabularies["item_id"].tolist() == [0, 10, 20, 30, 40, 50, 60, 70, 80]
    assert sorted(_raw(data, "test")) == [60, 80] and sorted(_raw(data, "validation")) == [30, 70]
    assert data.report["cold_test_items"] == 2 and data.report["cold_validation_items"] == 2
    # Side features of a test-only item are laid out on its row; their vocabulary is still the
    # training items' (k80 was never seen in train: 0, as a category met only at serving).
    row_80 = data.vocabularies["item_id"].tolist().index(80)
    assert data.item_features["kind"][row_80] == 0
    assert data.vocabularies["kind"].tolist() == ["", "k10", "k20", "k40", "k50"]


def test_vocabulary_from_train_keeps_held_out_items_on_row_0():
    data = _prepare(vocabulary_from="train")
    assert data.vocabularies["item_id"].tolist() == [0, 10, 20, 40, 50]
    assert (data.test["item_id"] == 0).all() and (data.validation["item_id"] == 0).all()
    assert data.report["cold_test_items"] == 2


def test_history_holds_each_users_latest_training_items_oldest_first():
    data = _prepare(history_length=3)
    feature = data.schema.feature("history")
    assert (feature.kind, feature.entity, feature.max_length) == ("sequence", "user", 3)
    assert feature.vocabulary_size == data.vocabulary_sizes["item_id"]
    history = data.user_features["history"]
    assert history.shape == (4, 3) and history.dtype == np.int32
    items = data.vocabularies["item_id"]

    def of(user):
        row = history[data.vocabularies["user_id"].tolist().index(user)]
        return [int(items[r]) if r else 0 for r in row]

    # a trains on 20 (t=2), 10 (t=5), 40 and 50 (both t=7: file order) — never 30 or 60, which
    # are held out; the latest 3, oldest first.
    assert of("a") == [10, 40, 50]
    assert of("b") == [20, 0, 0]  # 70 and 80 are held out; padding at the end
    assert of("c") == [10, 0, 0]
    assert history[0].tolist() == [0, 0, 0]  # the OOV user row
    # Through `columns`, each interaction gets its user's history.
    assert data.columns("test", ["history"])["history"].shape == (data.num_test, 3)


def test_history_without_timestamps_is_in_file_order():
    frame = pd.DataFrame({"user": [1, 1, 1, 2], "item": [7, 5, 6, 5]})
    cfg = DatasetConfig(name="tiny", target="implicit", history_length=2, shuffle_buffer=1,
                        train_fraction=0.9, validation_fraction=0.4, vocabulary="raw")
    data = prepare_interactions(Interactions(frame=frame, user="user", item="item"), cfg, clean=False)
    # rows 0, 1 train (a 1-row buffer keeps file order), 2 validation, 3 test.
    assert data.user_features["history"].tolist() == [[0, 0], [7, 5], [0, 0]]


def test_a_bad_history_length_names_the_key():
    with pytest.raises(ConfigError, match="data.history_length=-1 is negative"):
        _prepare(history_length=-1)


def test_models_take_the_users_history_only_by_name():
    """A user's history holds the item each of its training rows scores: a leak a model takes
    only when its config names it (`model.features: null` means every other side feature)."""
    import dataclasses

    from rsx.errors import DataError
    from rsx.model_inputs import side_feature_names
    from rsx.testing.side_features import side_feature_data

    data = side_feature_data(rows=100)
    kinds = {f.name: f.kind for f in data.schema.features}
    assert kinds["history"] == "sequence"
    assert side_feature_names(data, None) == [name for name, kind in kinds.items() if kind != "sequence"]
    assert side_feature_names(data, ["history", "genres"]) == ["history", "genres"]

    without = dataclasses.replace(data, schema=dataclasses.replace(
        data.schema, features=tuple(f for f in data.schema.features if f.name != "history")))
    with pytest.raises(DataError, match=r"'history'.*-> set data.history_length=N"):
        side_feature_names(without, ["history"])
