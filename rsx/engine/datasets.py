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
    """Batches of ({feature: ids}, label), optionally reshuffled every epoch; 2-D columns
    (multi_hot, sequence) give (batch, width) batches.

    Shuffling draws one permutation per epoch and gathers every column by it once; batches
    are then slices, exactly the batches `row_batches` describes for the same seed.

    Args:
        columns: column name -> array of shape (rows,) or (rows, width), all of one length.
        features: the input columns.
        label: the target column.
        batch_size: rows per batch (the global batch).
        shuffle: reshuffle the rows every epoch (seeded, so runs repeat).
        seed: the shuffle seed.
        drop_remainder: drop a last short batch (static shapes, e.g. on TPU).
    """
    tensors = {name: tf.constant(columns[name]) for name in [*features, label]}
    count = len(columns[label])

    def as_batches(rows):
        return _batches(({f: rows[f] for f in features}, rows[label]), count, batch_size, drop_remainder)

    if not shuffle:
        return as_batches(tensors).cache().prefetch(tf.data.AUTOTUNE)

    def epoch(epoch_seed):
        # One gather per column per epoch, then batches are plain slices: a per-batch
        # `map(gather)` costs about 0.7 ms a batch, as much as a small model's step.
        order = _epoch_order(count, epoch_seed)
        return as_batches({name: tf.gather(t, order) for name, t in tensors.items()})

    return _every_epoch(seed, epoch, steps_per_epoch(count, batch_size, drop_remainder)).prefetch(tf.data.AUTOTUNE)


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

    def epoch(epoch_seed):
        return _batches(_epoch_order(count, epoch_seed), count, batch_size, drop_remainder)

    return _every_epoch(seed, epoch, steps_per_epoch(count, batch_size, drop_remainder))


def _epoch_order(count: int, epoch_seed) -> tf.Tensor:
    """The epoch's permutation of row indices, drawn in one op (a shuffle buffer fed every
    row index costs about as much as training a small model's epoch)."""
    return tf.random.experimental.stateless_shuffle(tf.range(count, dtype=tf.int64), seed=tf.stack([epoch_seed, 0]))


def _batches(rows, count: int, batch_size: int, drop_remainder: bool) -> tf.data.Dataset:
    """Consecutive batches of `rows` (a structure of length-`count` tensors) by slicing."""
    full, rest = divmod(count, batch_size)
    data = tf.data.Dataset.from_tensor_slices(
        tf.nest.map_structure(lambda t: tf.reshape(t[: full * batch_size], [full, batch_size, *t.shape[1:]]), rows)
    )
    if rest and not drop_remainder:
        data = data.concatenate(
            tf.data.Dataset.from_tensors(tf.nest.map_structure(lambda t: t[full * batch_size :], rows))
        )
    return data


def _every_epoch(seed: int, epoch, steps: int) -> tf.data.Dataset:
    """`epoch(epoch_seed)`'s batches, with a new seed each time the dataset is iterated
    (each Keras epoch); the same `seed` gives the same sequence of epochs."""
    epoch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    return epoch_seeds.flat_map(epoch).apply(tf.data.experimental.assert_cardinality(steps))


def steps_per_epoch(count: int, batch_size: int, drop_remainder: bool) -> int:
    """How many batches `tf_dataset` yields for `count` rows."""
    return count // batch_size if drop_remainder else -(-count // batch_size)
