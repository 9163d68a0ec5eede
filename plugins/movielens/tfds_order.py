"""The order in which TFDS stores MovieLens rows, recomputed from the raw files.

TFDS writes a split sorted by `md5(split name + example key)`, and the MovieLens builder keys
each rating by its line number in the ratings file. Reading a single-shard split in order
(`tfds.load`'s default) therefore yields the lines sorted by that hash. Sorting the raw
lines the same way lets `data.source=files` reproduce the exact TFDS rows order, and so the
tutorials' split, without TFDS. This holds for one shard only, which is why it is offered
for MovieLens 100k alone (`tests/data` checks it against a TFDS data_dir built by TFDS).
"""

from __future__ import annotations

import hashlib

import numpy as np

#: The TFDS split MovieLens lives in; TFDS uses the split name as the hash salt.
_SPLIT = b"train"


def tfds_storage_order(num_rows: int) -> np.ndarray:
    """Returns line indices (0-based) in the order TFDS stores the ratings of one shard.

    Args:
        num_rows: number of ratings lines; the TFDS key of line i is the integer i.
    """
    salted = hashlib.md5(_SPLIT)
    digests = []
    for key in range(num_rows):
        md5 = salted.copy()
        md5.update(str(key).encode())
        digests.append(md5.digest())
    # Big-endian digests sort like the 128-bit integers TFDS compares.
    return np.argsort(np.array(digests, dtype="S16"), kind="stable")
