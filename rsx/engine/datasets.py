"""Batches for `model.fit` from prepared NumPy columns, via tf.data.

tf.data is the one input pipeline every Keras backend consumes (JAX and torch through
Keras' dataset adapters), and it is what TPUStrategy distributes.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import tensorflow as tf


def tf_dataset(
    columns: Mapping[str, np.ndarray],
    features: list[str],
    label: str,
    batch_size: int,
    shuffle: bool,
    seed: int,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches of ({feature: ids}, label), optionally reshuffled every epoch.

    Shuffling permutes row *indices* (one op per epoch) and gathers each batch in one
    vectorised op, which is several times faster than shuffling rows one element at a time.

    Args:
        columns: column name -> 1-D array, all of one length.
        features: the input columns.
        label: the target column.
        batch_size: rows per batch (the global batch).
        shuffle: reshuffle the rows every epoch (seeded, so runs repeat).
        seed: the shuffle seed.
        drop_remainder: drop a last short batch (static shapes, e.g. on TPU).
    """
    tensors = {name: tf.constant(columns[name]) for name in [*features, label]}
    count = len(columns[label])
    if not shuffle:
        data = tf.data.Dataset.from_tensor_slices(
            ({f: tensors[f] for f in features}, tensors[label])
        )
        return data.batch(batch_size, drop_remainder=drop_remainder).cache().prefetch(tf.data.AUTOTUNE)

    def gather(indices):
        return {f: tf.gather(tensors[f], indices) for f in features}, tf.gather(tensors[label], indices)

    return (
        row_batches(count, batch_size, seed, drop_remainder)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def row_batches(count: int, batch_size: int, seed: int, drop_remainder: bool = False) -> tf.data.Dataset:
    """Each epoch's batches of row indices, in the order `tf_dataset(shuffle=True)` uses.

    A backend that assembles batches itself (e.g. each process gathering only its part)
    starts from these, so the same seed gives the same batches on every backend.

    Args:
        count: rows in the split.
        batch_size: rows per batch (the global batch).
        seed: the shuffle seed; each epoch (each new iterator) draws a new permutation.
        drop_remainder: drop a last short batch.
    """
    full, rest = divmod(count, batch_size)
    rest = 0 if drop_remainder else rest

    def epoch_batches(epoch_seed):
        # The epoch's permutation in one op: pushing every row index through a shuffle
        # buffer instead costs about as much as training a small model's epoch.
        order = tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=tf.stack([epoch_seed, 0])
        )
        batches = tf.data.Dataset.from_tensor_slices(tf.reshape(order[: full * batch_size], [full, batch_size]))
        if rest:
            batches = batches.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size :]))
        return batches

    # Each epoch (each new iterator) draws a new seed; the same `seed` gives the same epochs.
    epoch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    return epoch_seeds.flat_map(epoch_batches).apply(
        tf.data.experimental.assert_cardinality(full + (1 if rest else 0))
    )


def steps_per_epoch(count: int, batch_size: int, drop_remainder: bool) -> int:
    """How many batches `tf_dataset` yields for `count` rows."""
    return count // batch_size if drop_remainder else -(-count // batch_size)
