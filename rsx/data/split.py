"""Train / validation / test splits of an interactions frame, as row indices.

`split_rows` is the one entry point: it sees only the number of rows, the config and, for the
strategies that need them, each row's user and timestamp, and returns `SplitRows`, int64 row
indices into the cleaned frame. The strategies (`data.split`):

- `random`: rows in a seeded random order, then cut: the first `train_fraction` for training,
  the rest test; validation is the last `validation_fraction` of the shuffled training rows.
  The order is a uniform NumPy permutation (`shuffle_buffer: null`, seed `split_seed`), or,
  with an integer `shuffle_buffer`, the KerasRS tutorials' tf.data shuffle reproduced exactly
  (data=movielens does this: buffer 100_000, seed 42). The tutorials run
  `ratings.shuffle(100_000, seed=42, reshuffle_each_iteration=False)` and take the first 80,000
  rows for training. A tf.data shuffle draws the same positions whatever the elements hold, so
  shuffling `range(n)` once gives the permutation the tutorial applies to its records
  (`shuffle_permutation`); it costs a TensorFlow import and, on 5M rows, three minutes.
- `random_per_user`: the same fractions within each user's rows (RecBole's default `RS`), the
  rows of a user ordered by a seeded permutation.
- `temporal`: one global time cut: the latest rows are the test split, the latest of the rest
  the validation split, so no training row is later than a validation or test row.
- `leave_one_out`: each user's last `leave_out` rows by time are test, the `leave_out` before
  them validation (RecBole's `LS`); a user with too few rows keeps them in train (test is
  served first, as in RecBole).

Ties in time are broken by row position (file order), so every strategy is deterministic.
With `validation_from=test` the validation split is the test split (the tutorials' setup).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from rsx.errors import ConfigError, DataError

#: The values of `data.split`.
STRATEGIES = ("random", "random_per_user", "temporal", "leave_one_out")
#: The values of `data.validation_from`.
VALIDATION_FROM = ("train", "test")


@dataclasses.dataclass(frozen=True)
class SplitRows:
    """Which rows of the cleaned interactions frame form each split.

    Args:
        train: int64 row indices, in the order training reads them (random: the shuffled
            order, which the tutorials' unshuffled batches depend on; otherwise ascending).
        validation: int64 row indices; equal to `test` when `validation_is_test`.
        test: int64 row indices.
        validation_is_test: the validation split is the test split (`validation_from=test`).
    """

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    validation_is_test: bool = False


def shuffle_permutation(num_rows: int, buffer_size: int, seed: int) -> np.ndarray:
    """Returns the order in which a seeded tf.data shuffle emits `num_rows` rows.

    The shuffle is built in a fresh graph on purpose: eagerly, tf.data combines the op seed
    with TensorFlow's *global* seed, so a caller that ran `keras.utils.set_random_seed`
    first would silently get a different split. A fresh graph has no global seed, which is
    the state the tutorials ran in, so the split depends on `seed` alone.

    Args:
        num_rows: number of rows to order.
        buffer_size: the tf.data shuffle buffer (the tutorials: 100_000).
        seed: the shuffle's op seed (the tutorials: 42).

    Returns:
        int64 array: position i holds the index of the row emitted i-th.
    """
    if num_rows == 0:
        return np.zeros(0, np.int64)
    if buffer_size <= 1:  # A one-element buffer emits rows in order; no need for TF.
        return np.arange(num_rows, dtype=np.int64)
    import tensorflow as tf  # Lazy: preparing data is the only place rsx.data needs TF.

    with tf.Graph().as_default():
        rows = tf.data.Dataset.range(num_rows).shuffle(
            buffer_size, seed=seed, reshuffle_each_iteration=False
        )
        batch = tf.compat.v1.data.make_one_shot_iterator(rows.batch(num_rows)).get_next()
        with tf.compat.v1.Session() as session:
            return session.run(batch)


def num_train_rows(num_rows: int, train_fraction: float) -> int:
    """Rows in the training split: the first `train_fraction` of them, rounded down.

    The small tolerance keeps float error from losing a row (0.8 * 100_000 is 80_000).
    """
    return int(math.floor(num_rows * train_fraction + 1e-9))


def split_columns(columns: dict[str, np.ndarray], rows: SplitRows):
    """Gathers every column into (train, validation, test) by `rows`.

    Returns validation None when it is the test split (`PreparedData`'s convention for
    validation = test, which tags the run `rsx.validation=test`).
    """
    train, validation, test = ({name: values[index] for name, values in columns.items()}
                               for index in (rows.train, rows.validation, rows.test))
    return train, (None if rows.validation_is_test else validation), test


def check_split_config(cfg) -> None:
    """Rejects split settings no strategy can honour, naming the key (ConfigError)."""
    if cfg.split not in STRATEGIES:
        raise ConfigError(f"data.split={cfg.split!r} is unknown", f"use one of {', '.join(STRATEGIES)}")
    if cfg.validation_from not in VALIDATION_FROM:
        raise ConfigError(f"data.validation_from={cfg.validation_from!r} is unknown",
                          "use data.validation_from=train (or test, to reproduce a tutorial)")
    for key, example in (("train_fraction", 0.8), ("validation_fraction", 0.1)):
        value = getattr(cfg, key)
        if not 0.0 < value < 1.0:
            raise ConfigError(f"data.{key}={value} is not in (0, 1)", f"use e.g. data.{key}={example}")
    if cfg.shuffle_buffer is not None and cfg.shuffle_buffer < 1:
        raise ConfigError(f"data.shuffle_buffer={cfg.shuffle_buffer} must be at least 1",
                          "use data.shuffle_buffer=null (a NumPy permutation) or 100000 (the tutorials')")
    if cfg.leave_out < 1:
        raise ConfigError(f"data.leave_out={cfg.leave_out} must be at least 1", "use data.leave_out=1")


def split_rows(num_rows: int, cfg, users: np.ndarray | None = None,
               timestamps: np.ndarray | None = None) -> SplitRows:
    """Splits rows `0..num_rows-1` by `cfg.split` into train / validation / test.

    Args:
        num_rows: rows of the cleaned interactions frame.
        cfg: the data config (a `rsx.config.SplitConfig`): split, train_fraction,
            validation_fraction, validation_from, split_seed, shuffle_buffer, leave_out.
        users: (num_rows,) user ids of any dtype; needed by random_per_user and leave_one_out.
        timestamps: (num_rows,) times (any orderable dtype); needed by temporal and
            leave_one_out.

    Raises:
        ConfigError: a split key is out of range, or the data lacks the users/timestamps the
            strategy needs.
        DataError: a split comes out empty.
    """
    check_split_config(cfg)
    if cfg.split in ("random_per_user", "leave_one_out") and users is None:
        raise ConfigError(f"data.split={cfg.split} needs the user of every row",
                          "use data.split=random or temporal")
    if cfg.split in ("temporal", "leave_one_out") and timestamps is None:
        raise ConfigError(f"data.split={cfg.split} needs a timestamp column and the data has none",
                          "use data.split=random or random_per_user, or map a timestamp column")
    for name, values in (("users", users), ("timestamps", timestamps)):
        if values is not None and len(values) != num_rows:
            raise ValueError(f"{name} has {len(values)} rows, expected {num_rows}")
    if cfg.split == "random":
        rows = _random(num_rows, cfg)
    elif cfg.split == "temporal":
        rows = _temporal(timestamps, cfg)
    else:
        rows = _per_user(users, timestamps, cfg)
    require_rows(rows)
    return rows


def require_rows(rows: SplitRows, name: str = "the data") -> None:
    """Raises a one-line DataError if any split is empty."""
    for split in ("train", "validation", "test"):
        if len(getattr(rows, split)) == 0:
            raise DataError(
                f"the {split} split of {name} is empty "
                f"({len(rows.train)} train, {len(rows.validation)} validation, {len(rows.test)} test rows)",
                "use more data, or change data.train_fraction / data.validation_fraction / data.split",
            )


def _rows(train, validation, test, cfg) -> SplitRows:
    """Assembles `SplitRows`; with validation_from=test the held-out rows return to train."""
    train, validation, test = (np.asarray(a, dtype=np.int64) for a in (train, validation, test))
    if cfg.validation_from == "test":
        return SplitRows(train=train, validation=test, test=test, validation_is_test=True)
    return SplitRows(train=train, validation=validation, test=test)


def _validation_count(num_train: int, cfg) -> int:
    return 0 if cfg.validation_from == "test" else num_train_rows(num_train, cfg.validation_fraction)


def _random(num_rows: int, cfg) -> SplitRows:
    if cfg.shuffle_buffer is None:
        order = np.random.default_rng(cfg.split_seed).permutation(num_rows)
    else:
        order = shuffle_permutation(num_rows, cfg.shuffle_buffer, cfg.split_seed)
    num_train = num_train_rows(num_rows, cfg.train_fraction)
    fit = num_train - _validation_count(num_train, cfg)
    return _rows(order[:fit], order[fit:num_train], order[num_train:], cfg)


def _temporal(timestamps: np.ndarray, cfg) -> SplitRows:
    # A stable sort keeps file order among equal times: ties are broken by row position.
    order = np.argsort(np.asarray(timestamps), kind="stable")
    num_train = num_train_rows(len(order), cfg.train_fraction)
    fit = num_train - _validation_count(num_train, cfg)
    return _rows(np.sort(order[:fit]), np.sort(order[fit:num_train]), np.sort(order[num_train:]), cfg)


def _per_user(users: np.ndarray, timestamps: np.ndarray | None, cfg) -> SplitRows:
    """random_per_user and leave_one_out: each user's rows ranked, then cut per user."""
    import pandas as pd  # Lazy, like TF above: only preparing data needs it.

    num_rows = len(users)
    user, _ = pd.factorize(np.asarray(users))  # dense codes by first appearance, by hashing
    if cfg.split == "leave_one_out":
        # Rows by (user, time, position): lexsort sorts by the last key first, and is stable.
        order = np.lexsort((np.asarray(timestamps), user))
    else:
        shuffled = np.random.default_rng(cfg.split_seed).permutation(num_rows)
        # Rows by (user, place in the shuffle): one unique int64 key, so an unstable sort
        # gives what a stable sort of `user[shuffled]` gives, in a third of the time.
        place = np.empty(num_rows, np.int64)
        place[shuffled] = np.arange(num_rows)
        order = np.argsort(user.astype(np.int64) * num_rows + place)
    counts = np.bincount(user)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    grouped = user[order]
    rank = np.arange(num_rows) - starts[grouped]  # 0 = a user's first row in the order
    size = counts[grouped]
    hold_validation = cfg.validation_from == "train"
    if cfg.split == "leave_one_out":
        k = cfg.leave_out
        num_test = np.where(counts > k, k, 0)
        num_validation = np.where(counts > 2 * k, k, 0) if hold_validation else np.zeros_like(counts)
    else:
        num_test, num_validation = _per_user_counts(counts, cfg)
    from_end = size - rank  # 1 = a user's last row in the order
    test = from_end <= num_test[grouped]
    validation = ~test & (from_end <= (num_test + num_validation)[grouped])
    train = ~test & ~validation
    return _rows(np.sort(order[train]), np.sort(order[validation]), np.sort(order[test]), cfg)


def _per_user_counts(counts: np.ndarray, cfg) -> tuple[np.ndarray, np.ndarray]:
    """Test and validation rows per user for random_per_user, as RecBole's `split_by_ratio`:
    each split gets floor(fraction x rows); a split whose share is under one row still gets
    one while the user keeps more than one training row (test served before validation)."""
    test_share = counts * (1.0 - cfg.train_fraction)
    validation_share = counts * cfg.train_fraction * cfg.validation_fraction
    if cfg.validation_from == "test":
        validation_share = np.zeros_like(test_share)
    num_test = np.floor(test_share + 1e-9).astype(np.int64)
    num_validation = np.floor(validation_share + 1e-9).astype(np.int64)
    bump = (num_test == 0) & (test_share > 0) & (counts - num_test - num_validation > 1)
    num_test += bump
    bump = (num_validation == 0) & (validation_share > 0) & (counts - num_test - num_validation > 1)
    num_validation += bump
    return num_test, num_validation
