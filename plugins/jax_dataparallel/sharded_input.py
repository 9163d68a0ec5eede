"""Each process's share of every global batch, as a tf.data pipeline (imports tensorflow).

All processes batch the same row *indices* in the same order (`row_batches`, the order
`tf_dataset` uses on every other backend, so the same seed gives the same batches there and
here), so they agree on every global batch without talking to each other; each then
gathers only its own contiguous part of it. `jax.make_array_from_process_local_data` (what Keras feeds a distributed step
with) puts the parts back together in process order, so a global batch holds exactly the
rows it holds in a single-process run: one process or several, the same training.

A batch must split evenly over the devices. The last, short batch of the training split is
cut down to a multiple of the device count (at most `devices - 1` rows are left out per
epoch; none when the split size divides). Validation and test splits come padded to a
multiple of the devices with zero-weight rows (`padded_for_evaluation`), so every one of
their rows is evaluated exactly once, even a split smaller than one global batch.
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np
import tensorflow as tf

from rsx.api.engine import row_batches


def batches_per_epoch(count: int, global_batch_size: int, num_devices: int) -> int:
    """Global batches of `count` rows once the last one is cut to a multiple of the devices."""
    remainder = count % global_batch_size
    return count // global_batch_size + (1 if remainder >= num_devices else 0)


def process_batches(
    columns: Mapping[str, np.ndarray],
    features: list[str],
    label: str,
    global_batch_size: int,
    shuffle: bool,
    seed: int,
    num_devices: int,
    num_processes: int = 1,
    process_id: int = 0,
    sample_weight: Optional[str] = None,
) -> tf.data.Dataset:
    """This process's part of each global batch: ({feature: ids}, label) batches, or
    ({feature: ids}, label, weight) with `sample_weight`.

    Args:
        columns: the split's columns, all of one length.
        features: the input columns.
        label: the target column.
        global_batch_size: rows per step over all processes; a multiple of `num_devices`.
        shuffle: reshuffle the rows every epoch (the same order on every process).
        seed: the shuffle seed.
        num_devices: devices over all processes; every batch is cut to a multiple of it.
        num_processes: processes sharing each batch; they own equally many devices.
        process_id: this process's index.
        sample_weight: the column of per-row weights (see `padded_for_evaluation`), if any.
    """
    count = len(columns[label])
    targets = [label] + ([sample_weight] if sample_weight else [])
    tensors = {name: tf.constant(columns[name]) for name in [*features, *targets]}

    def own_part(indices):
        rows = tf.shape(indices)[0]
        share = (rows - rows % num_devices) // num_processes
        return indices[process_id * share : (process_id + 1) * share]

    def gather(indices):
        return {f: tf.gather(tensors[f], indices) for f in features}, *(tf.gather(tensors[t], indices) for t in targets)

    if shuffle:
        indices = row_batches(count, global_batch_size, seed)
    else:
        indices = tf.data.Dataset.range(count).batch(global_batch_size)
    batches = (
        indices.map(own_part)
        # Only the last batch can become empty when cut; `take` drops it and keeps the
        # cardinality known, so Keras knows the steps per epoch from the start.
        .take(batches_per_epoch(count, global_batch_size, num_devices))
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    )
    if not shuffle:
        batches = batches.cache()  # The same batches every epoch: gather them once.
    return batches.prefetch(tf.data.AUTOTUNE)
