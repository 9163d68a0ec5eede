"""The tutorials' train/test split, reproduced exactly on NumPy columns.

The KerasRS tutorials split MovieLens with
`ratings.shuffle(100_000, seed=42, reshuffle_each_iteration=False)` and take the first
80,000 rows for training. A tf.data shuffle draws the same positions whatever the elements
hold, so shuffling `range(n)` once gives the permutation the tutorial applies to its
records; applying it to NumPy columns is exact and avoids pushing every record through
tf.data.
"""

from __future__ import annotations

import math

import numpy as np


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


def split_columns(
    columns: dict[str, np.ndarray], order: np.ndarray, num_train: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Reorders every column by `order` and cuts them into (train, test) at `num_train`.

    Args:
        columns: name -> 1-D array, all the same length.
        order: row indices in split order (see `shuffle_permutation`).
        num_train: rows that go to the training split; the rest form the test split.
    """
    shuffled = {name: values[order] for name, values in columns.items()}
    train = {name: values[:num_train] for name, values in shuffled.items()}
    test = {name: values[num_train:] for name, values in shuffled.items()}
    return train, test
