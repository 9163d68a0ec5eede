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

from rsx.data.split import SplitRows, require_rows
from rsx.errors import ConfigError, DataError

#: The values of `data.duplicates`.
DUPLICATE_POLICIES = ("keep_last", "mean", "error")


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
        counts: `rows_read`, `duplicates` (rows merged away), `filtered_min_rating`,
        `filtered_min_user_count`, `filtered_min_item_count`, `rows`.

    Raises:
        ConfigError: a policy or threshold is invalid, or needs a rating column the data lacks.
        DataError: duplicates with `duplicates=error`, or the filters leave no row.
    """
    _check_config(cfg, rating)
    report = {"rows_read": int(len(frame))}
    frame = frame.reset_index(drop=True)

    frame, report["duplicates"] = _resolve_duplicates(frame, cfg.duplicates, user, item, rating, timestamp)

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
            counts = frame.groupby(column, sort=False)[column].transform("size").to_numpy()
            keep = counts >= threshold
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
    users, items = np.asarray(users), np.asarray(items)
    report = {}
    for split in ("validation", "test"):
        held_out = getattr(rows, split)
        for kind, ids in (("users", users), ("items", items)):
            seen = np.unique(ids[rows.train])
            report[f"cold_{split}_{kind}"] = int((~np.isin(np.unique(ids[held_out]), seen)).sum())
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
    # Rows in time order (stable: equal times keep file order), so "last" is the latest.
    by_time = frame.sort_values(timestamp, kind="stable") if timestamp else frame
    repeated = by_time.duplicated([user, item], keep="last")
    count = int(repeated.sum())
    if not count:
        return frame, 0
    if policy == "error":
        first = by_time[repeated].iloc[0]
        raise DataError(
            f"{count} repeated ({user}, {item}) pairs, e.g. ({first[user]}, {first[item]})",
            "set data.duplicates=keep_last or mean to merge them",
        )
    kept = frame.loc[np.sort(by_time.index[~repeated.to_numpy()])]
    if policy == "mean":
        means = frame.groupby([user, item], sort=False)[rating].transform("mean")
        kept = kept.assign(**{rating: means.loc[kept.index].astype(frame[rating].dtype)})
    return kept, count


def _require_rows(frame, key: str) -> None:
    if len(frame) == 0:
        raise DataError(f"{key} removes every row", f"lower or unset data.{key.split('=')[0].split('.')[-1]}")
