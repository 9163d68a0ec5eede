"""`split_rows`: every strategy partitions the rows, respects time, and fails in one line."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsx.config import SplitConfig
from rsx.data.split import split_rows
from rsx.errors import ConfigError, DataError

# shuffle_buffer=1 keeps `random` free of TensorFlow (the tutorial shuffle is tested in test_split).
BASE = SplitConfig(shuffle_buffer=1)


def _cfg(**fields):
    return dataclasses.replace(BASE, **fields)


@st.composite
def interactions(draw, min_rows=30):
    """(users, timestamps) of a small log: few users, many tied times."""
    n = draw(st.integers(min_rows, 300))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    users = rng.integers(0, draw(st.integers(1, 12)), n)
    timestamps = rng.integers(0, draw(st.integers(1, 50)), n)
    return users, timestamps


def _assert_partition(rows, n):
    parts = [rows.train, rows.test] + ([] if rows.validation_is_test else [rows.validation])
    joined = np.concatenate(parts)
    assert len(joined) == n and len(np.unique(joined)) == n  # no row twice, none missing
    assert all(p.dtype == np.int64 for p in parts)


@settings(max_examples=40, deadline=None)
@given(interactions(), st.sampled_from(["random", "random_per_user", "temporal", "leave_one_out"]),
       st.sampled_from(["train", "test"]))
def test_every_strategy_partitions_the_rows(log, strategy, validation_from):
    users, timestamps = log
    try:
        rows = split_rows(len(users), _cfg(split=strategy, validation_from=validation_from), users, timestamps)
    except DataError as error:  # a log too small for the strategy: said in one line
        assert "split of the data is empty" in str(error) and "\n" not in str(error)
        return
    _assert_partition(rows, len(users))
    if validation_from == "test":
        assert rows.validation_is_test and np.array_equal(rows.validation, rows.test)


@settings(max_examples=40, deadline=None)
@given(interactions())
def test_temporal_puts_no_training_row_after_a_held_out_row(log):
    users, timestamps = log
    rows = split_rows(len(users), _cfg(split="temporal", train_fraction=0.7, validation_fraction=0.2),
                      users, timestamps)
    assert timestamps[rows.train].max() <= timestamps[rows.validation].min()
    assert timestamps[rows.validation].max() <= timestamps[rows.test].min()
    assert len(rows.test) == len(users) - int(len(users) * 0.7 + 1e-9)


@settings(max_examples=40, deadline=None)
@given(interactions(min_rows=5), st.integers(1, 2))
def test_leave_one_out_holds_out_each_users_last_rows(log, leave_out):
    users, timestamps = log
    try:
        rows = split_rows(len(users), _cfg(split="leave_one_out", leave_out=leave_out), users, timestamps)
    except DataError:
        assert np.bincount(users).max() <= 2 * leave_out  # nobody had rows for validation and test
        return
    for user in np.unique(users):
        mine = np.flatnonzero(users == user)
        count = len(mine)
        test = np.intersect1d(rows.test, mine)
        validation = np.intersect1d(rows.validation, mine)
        train = np.intersect1d(rows.train, mine)
        assert len(test) == (leave_out if count > leave_out else 0)
        assert len(validation) == (leave_out if count > 2 * leave_out else 0)
        assert len(train) >= 1  # a user with too few rows stays in train
        if len(test):
            assert timestamps[train].max() <= timestamps[test].min()
        if len(validation):
            assert timestamps[train].max() <= timestamps[validation].min()
            assert timestamps[validation].max() <= timestamps[test].min()


def test_leave_one_out_breaks_time_ties_by_file_order():
    users = np.zeros(4, np.int64)
    rows = split_rows(4, _cfg(split="leave_one_out"), users, np.array([5, 9, 9, 1]))
    assert (rows.test.tolist(), rows.validation.tolist(), rows.train.tolist()) == ([2], [1], [0, 3])


def test_random_per_user_keeps_each_users_ratios_and_is_seed_stable():
    users = np.repeat(np.arange(20), 50)
    rng = np.random.default_rng(0)
    users = users[rng.permutation(len(users))]
    cfg = _cfg(split="random_per_user", train_fraction=0.8, validation_fraction=0.25)
    rows = split_rows(len(users), cfg, users)
    for part, expected in ((rows.test, 10), (rows.validation, 10), (rows.train, 30)):
        assert np.array_equal(np.bincount(users[part], minlength=20), np.full(20, expected))
    again = split_rows(len(users), cfg, users)
    other = split_rows(len(users), _cfg(split="random_per_user", split_seed=7), users)
    assert np.array_equal(again.test, rows.test)
    assert not np.array_equal(other.test, rows.test)


def test_random_per_user_gives_small_users_a_test_row_like_recbole():
    # 3 rows: 0.6 test rows -> 1 (train keeps 2); 0.24 validation rows -> 1 (train keeps 1).
    users = np.array([0, 0, 0, 1])
    rows = split_rows(4, _cfg(split="random_per_user"), users)
    assert np.bincount(users[rows.test], minlength=2).tolist() == [1, 0]
    assert np.bincount(users[rows.validation], minlength=2).tolist() == [1, 0]
    assert np.bincount(users[rows.train], minlength=2).tolist() == [1, 1]


def test_random_cuts_test_then_validation_from_the_shuffled_order():
    rows = split_rows(100, _cfg())
    assert rows.test.tolist() == list(range(80, 100))
    assert rows.validation.tolist() == list(range(72, 80))
    assert rows.train.tolist() == list(range(72))
    tutorial = split_rows(100, _cfg(validation_from="test"))
    assert tutorial.train.tolist() == list(range(80)) and tutorial.validation_is_test


@pytest.mark.parametrize("key", ["train_fraction", "validation_fraction"])
@pytest.mark.parametrize("value", [0.0, 1.0, -0.5, 1.5])
def test_fraction_outside_zero_one_names_the_key(key, value):
    with pytest.raises(ConfigError, match=f"^data.{key}={value} is not in \\(0, 1\\) -> ") as error:
        split_rows(100, _cfg(**{key: value}))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("fields, message", [
    ({"split": "chronological"}, "data.split='chronological' is unknown"),
    ({"validation_from": "elsewhere"}, "data.validation_from='elsewhere' is unknown"),
    ({"leave_out": 0}, "data.leave_out=0 must be at least 1"),
    ({"split": "temporal"}, "data.split=temporal needs a timestamp column"),
    ({"split": "leave_one_out"}, "data.split=leave_one_out needs the user of every row"),
])
def test_bad_settings_name_the_key(fields, message):
    with pytest.raises(ConfigError, match=message):
        split_rows(10, _cfg(**fields))


def test_an_empty_split_is_one_line():
    with pytest.raises(DataError, match="^the validation split of the data is empty") as error:
        split_rows(5, _cfg())  # 4 training rows x 0.1 -> no validation row
    assert "\n" not in str(error.value) and "data.validation_fraction" in str(error.value)
