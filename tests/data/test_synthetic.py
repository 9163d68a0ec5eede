"""`data=synthetic`: the planted structure is there, learnable, and the data is reproducible."""

import numpy as np
import pytest

from rsx_plugins.synthetic.config import SyntheticConfig
from rsx.data import load_prepared
from rsx_plugins.synthetic import generate as synthetic
from rsx.errors import ConfigError

SMALL = SyntheticConfig(num_users=200, num_items=100, num_interactions=30_000, rank=4, noise=0.05,
                        seed=3, cache_dir="")


@pytest.fixture(scope="module")
def small():
    return load_prepared(SMALL)


def test_columns_ids_and_vocabularies(small):
    # Rows in generation order: the last 20 % test, the last 10 % of the rest validation.
    assert (small.num_train, small.num_validation, small.num_test) == (21_600, 2_400, 6_000)
    assert not small.validation_is_test
    assert small.vocabulary_sizes == {"user_id": 201, "item_id": 101}
    for split in (small.train, small.test):
        assert split["user_id"].dtype == np.int32 and split["item_id"].dtype == np.int32
        assert split["label"].dtype == np.float32 and split["rating"].dtype == np.float32
        assert split["user_id"].min() >= 1 and split["user_id"].max() <= 200
        assert split["item_id"].min() >= 1 and split["item_id"].max() <= 100
        assert split["label"].min() >= 0 and split["label"].max() <= 1
        np.testing.assert_allclose(split["rating"], 1 + 4 * split["label"], rtol=1e-6)
    assert small.titles[0] == "" and small.titles[17] == "item 17" and len(small.titles) == 101


def test_side_features_are_declared_laid_out_by_id_and_carry_the_planted_structure(small):
    planted = synthetic.planted_preferences(SMALL)
    kinds = {f.name: (f.kind, f.entity) for f in small.schema.features}
    assert kinds == {"segment": ("categorical", "user"), "tags": ("multi_hot", "item"),
                     "quality": ("numeric", "item")}
    segment, tags = small.schema.feature("segment"), small.schema.feature("tags")
    assert small.user_features["segment"].shape == (201,) and small.user_features["segment"][0] == 0
    assert segment.vocabulary_size == SMALL.rank + 1
    assert small.item_features["tags"].shape == (101, tags.max_length) == (101, 2)
    assert (small.item_features["tags"][1:] > 0).all() and (small.item_features["tags"][0] == 0).all()
    # Users whose largest factor is the same dimension share a segment row, and only they.
    rows = small.user_features["segment"][1:]
    dims = np.argmax(planted.user_factors[1:], axis=1)
    assert len(set(zip(rows.tolist(), dims.tolist()))) == len(set(dims.tolist()))
    # quality = item bias + small noise: standardized on train, still tracks the bias.
    quality = small.item_features["quality"][1:]
    assert np.corrcoef(quality, planted.item_bias[1:])[0, 1] > 0.9
    columns = small.columns("test", ["segment", "tags", "quality"])
    np.testing.assert_array_equal(columns["tags"], small.item_features["tags"][small.test["item_id"]])


def test_the_planted_score_explains_most_of_the_label_variance(small):
    planted = synthetic.planted_preferences(SMALL)
    labels = np.concatenate([small.train["label"], small.test["label"]])
    users = np.concatenate([small.train["user_id"], small.test["user_id"]])
    items = np.concatenate([small.train["item_id"], small.test["item_id"]])
    residual = labels - planted.expected_label(users, items)
    assert np.var(residual) < 0.1 * np.var(labels)
    assert np.std(residual) == pytest.approx(SMALL.noise, rel=0.15)  # clipping trims a little


def _als(users, items, labels, num_users, num_items, rank, reg=0.1, sweeps=8):
    """Biased matrix factorisation by alternating ridge regressions; NumPy only."""
    rng = np.random.default_rng(0)
    mean = labels.mean()
    p = np.hstack([rng.normal(0, 0.1, (num_users, rank)), np.zeros((num_users, 1)), np.ones((num_users, 1))])
    q = np.hstack([rng.normal(0, 0.1, (num_items, rank)), np.ones((num_items, 1)), np.zeros((num_items, 1))])
    target = labels - mean
    free = {"user": list(range(rank + 1)), "item": list(range(rank)) + [rank + 1]}
    for _ in range(sweeps):
        for own, other, ids, other_ids, side in ((p, q, users, items, "user"), (q, p, items, users, "item")):
            cols = free[side]
            fixed = [c for c in range(rank + 2) if c not in cols]
            for row in range(own.shape[0]):
                mask = ids == row
                if not mask.any():
                    continue
                x = other[other_ids[mask]]
                y = target[mask] - x[:, fixed] @ own[row, fixed]
                a = x[:, cols]
                own[row, cols] = np.linalg.solve(a.T @ a + reg * np.eye(len(cols)), a.T @ y)
    return lambda u, i: mean + np.sum(p[u] * q[i], axis=1)


def test_a_small_factorisation_beats_predicting_the_mean_by_far(small):
    train, test = small.train, small.test
    predict = _als(train["user_id"], train["item_id"], train["label"].astype(np.float64),
                   SMALL.num_users + 1, SMALL.num_items + 1, SMALL.rank)
    mean_mse = np.mean((test["label"] - train["label"].mean()) ** 2)
    model_mse = np.mean((test["label"] - predict(test["user_id"], test["item_id"])) ** 2)
    assert model_mse < 0.15 * mean_mse, (model_mse, mean_mse)


def test_same_seed_same_rows_and_chunks_do_not_change_them():
    # Rows depend on (seed, chunk index) only: a longer run extends a shorter one.
    n = synthetic._CHUNK + 1_000
    longer = synthetic.prepare_synthetic(SyntheticConfig(num_interactions=n, train_fraction=0.99))
    shorter = synthetic.prepare_synthetic(SyntheticConfig(num_interactions=synthetic._CHUNK, train_fraction=0.99))
    for column in shorter.train:
        np.testing.assert_array_equal(longer.train[column][: shorter.num_train], shorter.train[column])
    again = synthetic.prepare_synthetic(SyntheticConfig(num_interactions=1_000))
    other = synthetic.prepare_synthetic(SyntheticConfig(num_interactions=1_000, seed=1))
    np.testing.assert_array_equal(again.train["label"], synthetic.prepare_synthetic(
        SyntheticConfig(num_interactions=1_000)).train["label"])
    assert not np.array_equal(again.train["label"], other.train["label"])


@pytest.mark.parametrize("field, value", [("num_users", 0), ("rank", 0), ("num_interactions", 1),
                                          ("noise", -0.1), ("train_fraction", 1.0)])
def test_out_of_range_settings_name_the_key(field, value):
    with pytest.raises(ConfigError, match=f"data.{field}="):
        load_prepared(SyntheticConfig(cache_dir="", **{field: value}))
