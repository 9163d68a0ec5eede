"""Batches for `model.fit` from prepared NumPy columns, via tf.data.

tf.data is the one input pipeline every Keras backend consumes (JAX and torch through
Keras' dataset adapters), and it is what TPUStrategy distributes.
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np
import tensorflow as tf

#: The column `padded_for_evaluation` adds: each row's weight in the split's metrics.
SAMPLE_WEIGHT = "sample_weight"


def tf_dataset(
    columns: Mapping[str, np.ndarray],
    features: list[str],
    label: str,
    batch_size: int,
    shuffle: bool,
    seed: int,
    drop_remainder: bool = False,
    sample_weight: Optional[str] = None,
) -> tf.data.Dataset:
    """Batches of ({feature: ids}, label) or, with `sample_weight`, ({feature: ids}, label,
    weight), optionally reshuffled every epoch; 2-D columns (multi_hot, sequence) give
    (batch, width) batches.

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
        sample_weight: the column of per-row weights (see `padded_for_evaluation`), if any.
    """
    targets = [label] + ([sample_weight] if sample_weight else [])
    tensors = {name: tf.constant(columns[name]) for name in [*features, *targets]}
    count = len(columns[label])

    def as_batches(rows):
        return _batches(({f: rows[f] for f in features}, *(rows[t] for t in targets)), count, batch_size, drop_remainder)

    if not shuffle:
        return as_batches(tensors).cache().prefetch(tf.data.AUTOTUNE)

    def epoch(epoch_seed):
        # One gather per column per epoch, then batches are plain slices: a per-batch
        # `map(gather)` costs about 0.7 ms a batch, as much as a small model's step.
        order = _epoch_order(count, epoch_seed)
        return as_batches({name: tf.gather(t, order) for name, t in tensors.items()})

    return _every_epoch(seed, epoch, steps_per_epoch(count, batch_size, drop_remainder)).prefetch(tf.data.AUTOTUNE)


def padded_for_evaluation(columns: Mapping[str, np.ndarray], multiple: int) -> dict[str, np.ndarray]:
    """The split's columns, padded to a multiple of `multiple` rows, with a `SAMPLE_WEIGHT`
    column under which Keras' `evaluate` counts every real row exactly once.

    For backends whose batches must have a fixed size or split evenly over devices: rather
    than dropping the rows that do not fill a batch (or every row, when the split is smaller
    than one batch), pad with copies of the first rows (real ids, so no lookup sees a
    made-up id) that weigh 0.

    Real rows weigh `padded / real` rather than 1 because Keras averages each batch's loss
    over the batch's *padded* size and weighs that by the padded size: with this weight the
    reported loss is the plain mean over the real rows, and every weighted-mean metric
    (RMSE, MAE, ...) is unchanged, since a constant weight cancels out. (This holds for losses
    with Keras' default reduction, "sum_over_batch_size", which every built-in loss uses.)

    Args:
        columns: column name -> 1-D array, all of one length n >= 1.
        multiple: the padded length is the least multiple of this >= n.

    Returns:
        The padded columns (copies of rows 0, 1, ... appended) plus `SAMPLE_WEIGHT` (float32,
        `padded / n` for the n real rows, 0 for the copies). Unchanged rows when n divides.
    """
    count = len(next(iter(columns.values())))
    if count == 0:
        return {**columns, SAMPLE_WEIGHT: np.zeros(0, np.float32)}
    padded = -(-count // multiple) * multiple
    rows = np.arange(padded) % count
    weights = np.where(np.arange(padded) < count, padded / count, 0.0).astype(np.float32)
    return {**{name: np.asarray(values)[rows] for name, values in columns.items()}, SAMPLE_WEIGHT: weights}


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
