"""`integrity.clean` and `check_splits`: duplicates, filters and cold ids, counted."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsx.config import SplitConfig
from rsx.data.integrity import check_splits, clean
from rsx.data.split import SplitRows
from rsx.errors import ConfigError, DataError


def _cfg(**fields):
    return dataclasses.replace(SplitConfig(), **fields)


def _frame():
    # (1, 10) is rated three times: latest by time is the 2.0 at t=9 (not the last line).
    return pd.DataFrame({
        "u": [1, 1, 2, 1, 3, 2],
        "i": [10, 10, 20, 10, 10, 30],
        "r": [4.0, 2.0, 5.0, 3.0, 1.0, 4.0],
        "t": [1, 9, 2, 5, 3, 4],
    })


def test_keep_last_keeps_the_latest_by_time_at_its_own_position():
    frame, report = clean(_frame(), _cfg(), "u", "i", "r", "t")
    assert frame.to_dict("list") == {"u": [1, 2, 3, 2], "i": [10, 20, 10, 30],
                                     "r": [2.0, 5.0, 1.0, 4.0], "t": [9, 2, 3, 4]}
    assert report["duplicates_merged"] == 2 and report["rows_read"] == 6 and report["rows"] == 4


def test_keep_last_without_timestamp_keeps_the_last_line():
    frame, _ = clean(_frame(), _cfg(), "u", "i", "r", None)
    assert frame["r"].tolist() == [5.0, 3.0, 1.0, 4.0]


def test_mean_averages_the_pairs_ratings():
    frame, report = clean(_frame(), _cfg(duplicates="mean"), "u", "i", "r", "t")
    assert frame["r"].tolist() == [3.0, 5.0, 1.0, 4.0] and report["duplicates_merged"] == 2


def test_error_names_a_repeated_pair():
    with pytest.raises(DataError, match=r"^2 repeated \(u, i\) pairs, e.g. \(1, 10\) -> set data.duplicates"):
        clean(_frame(), _cfg(duplicates="error"), "u", "i", "r", "t")


def test_min_rating_runs_after_duplicates():
    # The latest opinion of (1, 10) is 2.0: it is dropped, not replaced by the earlier 4.0.
    frame, report = clean(_frame(), _cfg(min_rating=3.0), "u", "i", "r", "t")
    assert frame[["u", "i"]].values.tolist() == [[2, 20], [2, 30]]
    assert report["filtered_min_rating"] == 2


def test_count_filters_run_to_a_fixed_point():
    # Item 99 is rated once; dropping it leaves user 3 with one row, so user 3 goes too.
    frame = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3], "i": [7, 8, 7, 8, 7, 99]})
    cleaned, report = clean(frame, _cfg(min_user_count=2, min_item_count=2), "u", "i", None, None)
    assert cleaned["u"].value_counts().min() >= 2 and cleaned["i"].value_counts().min() >= 2
    assert cleaned.values.tolist() == [[1, 7], [1, 8], [2, 7], [2, 8]]
    assert (report["filtered_min_item_count"], report["filtered_min_user_count"]) == (1, 1)


@pytest.mark.parametrize("fields, key", [({"min_user_count": 10}, "data.min_user_count=10"),
                                         ({"min_rating": 6.0}, "data.min_rating=6.0")])
def test_a_filter_that_removes_every_row_is_one_line(fields, key):
    with pytest.raises(DataError, match=f"^{key} removes every row -> lower or unset") as error:
        clean(_frame(), _cfg(**fields), "u", "i", "r", "t")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("fields, message", [
    ({"duplicates": "first"}, "data.duplicates='first' is unknown"),
    ({"min_item_count": -1}, "data.min_item_count=-1 is negative"),
    ({"min_rating": 4.0}, "data.min_rating=4.0 needs a rating column"),
    ({"duplicates": "mean"}, "data.duplicates=mean averages ratings"),
])
def test_bad_settings_name_the_key(fields, message):
    with pytest.raises(ConfigError, match=message):
        clean(_frame().drop(columns="r"), _cfg(**fields), "u", "i", None, "t")


def test_check_splits_counts_cold_users_and_items():
    users = np.array(["a", "a", "b", "c", "c", "d"])
    items = np.array([1, 2, 1, 3, 1, 4])
    rows = SplitRows(train=np.array([0, 1, 2]), validation=np.array([3]), test=np.array([4, 5]))
    report = check_splits(rows, users, items, "tiny")
    assert report == {"cold_validation_users": 1, "cold_validation_items": 1,
                      "cold_test_users": 2, "cold_test_items": 1,
                      "train_rows": 3, "validation_rows": 1, "test_rows": 2}


def test_check_splits_rejects_an_empty_split_in_one_line():
    rows = SplitRows(train=np.array([0, 1]), validation=np.array([], np.int64), test=np.array([2]))
    with pytest.raises(DataError, match="^the validation split of data 'tiny' is empty"):
        check_splits(rows, np.zeros(3), np.zeros(3), "tiny")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 5)), min_size=1, max_size=40),
       st.booleans())
def test_keep_last_matches_a_plain_pandas_reference(rows, with_time):
    # Reference: RecBole's way (stable sort by time, drop_duplicates keep="last"), file order back.
    frame = pd.DataFrame(rows, columns=["u", "i", "t"]).assign(r=np.arange(len(rows), dtype=float))
    timestamp = "t" if with_time else None
    by_time = frame.sort_values("t", kind="stable") if with_time else frame
    expected = by_time.drop_duplicates(["u", "i"], keep="last").sort_index().reset_index(drop=True)
    cleaned, report = clean(frame, _cfg(), "u", "i", "r", timestamp)
    pd.testing.assert_frame_equal(cleaned, expected)
    assert report["duplicates_merged"] == len(frame) - len(expected)
