"""Data integrity, reported rather than silent: duplicates, filters, cold users and items.

`clean` runs before the split, in RecBole's order (`Dataset._data_filtering`): repeated
(user, item) pairs are resolved first (so a user's latest opinion is what the value filter
sees), then `min_rating`, then the interaction-count filters. `check_splits` runs after it and
counts users/items that the model meets only in validation or test (cold: their embeddings
are never trained). Both return counts; the pipeline puts them in `PreparedData.report` and the
run logs them as `data.*` params.

The count filters run to a fixed point (the k-core), as RecBole's `_filter_by_inter_num`
does: dropping a rare item can push a user under `min_user_count`, and a single pass would
leave such users behind, so the promise "every user has at least min_user_count rows" would
not hold. The report says how many rows each filter removed over all rounds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rsx.data.split import SplitRows, require_rows
from rsx.errors import ConfigError, DataError

#: The values of `data.duplicates`.
from rsx.config import DUPLICATE_POLICIES  # noqa: E402  (one list, beside the key)


def clean(frame, cfg, user: str, item: str, rating: str | None,
          timestamp: str | None) -> tuple["pandas.DataFrame", dict[str, int]]:
    """Resolves duplicates and applies the filters of `cfg`, keeping the rows' file order.

    Args:
        frame: one row per interaction (a pandas DataFrame), in file order.
        cfg: the data config (a `rsx.config.SplitConfig`): duplicates, min_rating,
            min_user_count, min_item_count.
        user, item: the id columns; rating, timestamp: their columns, or None if absent.

    Returns:
        The cleaned frame (a fresh 0..n-1 index, rows in their original relative order) and
        counts: `rows_read`, `duplicates_merged` (rows merged away), `filtered_min_rating`,
        `filtered_min_user_count`, `filtered_min_item_count`, `rows`.

    Raises:
        ConfigError: a policy or threshold is invalid, or needs a rating column the data lacks.
        DataError: duplicates with `duplicates=error`, or the filters leave no row.
    """
    _check_config(cfg, rating)
    report = {"rows_read": int(len(frame))}
    frame = frame.reset_index(drop=True)

    frame, report["duplicates_merged"] = _resolve_duplicates(frame, cfg.duplicates, user, item, rating, timestamp)

    before = len(frame)
    if cfg.min_rating is not None:
        frame = frame[frame[rating].to_numpy() >= cfg.min_rating]
        _require_rows(frame, f"data.min_rating={cfg.min_rating}")
    report["filtered_min_rating"] = before - len(frame)

    report["filtered_min_user_count"] = report["filtered_min_item_count"] = 0
    while cfg.min_user_count > 1 or cfg.min_item_count > 1:
        removed = 0
        for column, key in ((user, "min_user_count"), (item, "min_item_count")):
            threshold = getattr(cfg, key)
            if threshold <= 1:
                continue
            codes, _ = pd.factorize(frame[column])
            keep = np.bincount(codes)[codes] >= threshold
            if not keep.all():
                frame = frame[keep]
                report[f"filtered_{key}"] += int((~keep).sum())
                removed += int((~keep).sum())
                _require_rows(frame, f"data.{key}={threshold}")
        if not removed:
            break
    report["rows"] = int(len(frame))
    return frame.reset_index(drop=True), report


def check_splits(rows: SplitRows, users, items, name: str) -> dict[str, int]:
    """Counts users and items that appear in validation or test but never in train.

    Args:
        rows: the split (row indices into the cleaned frame).
        users, items: (rows,) raw ids of every row of the cleaned frame, any dtype.
        name: the dataset's name, for the error message.

    Returns:
        `cold_test_users`, `cold_test_items`, `cold_validation_users`, `cold_validation_items`
        (distinct ids), and the rows per split (`train_rows`, `validation_rows`, `test_rows`).

    Raises:
        DataError: a split is empty.
    """
    require_rows(rows, f"data '{name}'")
    report = {}
    for kind, ids in (("users", users), ("items", items)):
        codes, uniques = pd.factorize(np.asarray(ids))  # hashing: O(rows), no sort
        seen = np.zeros(len(uniques), bool)
        seen[codes[rows.train]] = True
        for split in ("validation", "test"):
            held_out = np.zeros(len(uniques), bool)
            held_out[codes[getattr(rows, split)]] = True
            report[f"cold_{split}_{kind}"] = int((held_out & ~seen).sum())
    report.update(train_rows=len(rows.train), validation_rows=len(rows.validation), test_rows=len(rows.test))
    return report


def _check_config(cfg, rating: str | None) -> None:
    if cfg.duplicates not in DUPLICATE_POLICIES:
        raise ConfigError(f"data.duplicates={cfg.duplicates!r} is unknown",
                          f"use one of {', '.join(DUPLICATE_POLICIES)}")
    for key in ("min_user_count", "min_item_count"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"data.{key}={getattr(cfg, key)} is negative", f"use data.{key}=0 (off) or more")
    if rating is None:
        if cfg.min_rating is not None:
            raise ConfigError(f"data.min_rating={cfg.min_rating} needs a rating column and the data has none",
                              "map a rating column, or set data.min_rating=null")
        if cfg.duplicates == "mean":
            raise ConfigError("data.duplicates=mean averages ratings and the data has none",
                              "use data.duplicates=keep_last")


def _resolve_duplicates(frame, policy: str, user: str, item: str, rating: str | None,
                        timestamp: str | None):
    """Keeps one row per (user, item): the latest (by timestamp, ties and no timestamp by file
    order), at its own position; `mean` gives it the mean rating of the pair's rows."""
    pair = pair_codes(frame[user], frame[item])
    # Rows of repeated pairs: equal neighbours once the codes are sorted. One unstable int64
    # sort (2 s on 20M rows) beats pandas' hash-based `duplicated` (7.5 s): the codes span
    # users x items, too wide for a hash table to stay in cache.
    by_pair = np.argsort(pair)
    equal = pair[by_pair][1:] == pair[by_pair][:-1]
    repeated_sorted = np.zeros(len(pair), bool)
    repeated_sorted[1:] |= equal
    repeated_sorted[:-1] |= equal
    rows = np.sort(by_pair[repeated_sorted])
    # Only those rows are ordered by (pair, time, position): a frame without duplicates
    # (MovieLens) pays the one sort above and nothing more.
    if not rows.size:
        return frame, 0
    times = frame[timestamp].to_numpy()[rows] if timestamp else np.zeros(len(rows))
    order = rows[np.lexsort((rows, times, pair[rows]))]
    latest = np.append(pair[order][1:] != pair[order][:-1], True)  # the last row of each pair
    repeated = np.zeros(len(frame), bool)
    repeated[order[~latest]] = True
    count = int(repeated.sum())
    if policy == "error":
        first = int(order[~latest][0])
        raise DataError(
            f"{count} repeated ({user}, {item}) pairs, e.g. ({frame[user].iloc[first]}, {frame[item].iloc[first]})",
            "set data.duplicates=keep_last or mean to merge them",
        )
    kept = frame[~repeated]
    if policy == "mean":
        means = frame[rating].groupby(pair).transform("mean").to_numpy()[~repeated]
        kept = kept.assign(**{rating: means.astype(frame[rating].dtype)})
    return kept, count


def pair_codes(users, items) -> np.ndarray:
    """One int64 per row, equal exactly for equal (user, item) pairs (hash-factorized, O(rows))."""
    user_codes, _ = pd.factorize(users)
    item_codes, uniques = pd.factorize(items)
    return user_codes.astype(np.int64) * max(len(uniques), 1) + item_codes


def _require_rows(frame, key: str) -> None:
    if len(frame) == 0:
        raise DataError(f"{key} removes every row", f"lower or unset data.{key.split('=')[0].split('.')[-1]}")
