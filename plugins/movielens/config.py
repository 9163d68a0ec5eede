"""Config of the MovieLens dataset (`data=movielens`; presets `movielens_100k`, `movielens_1m`)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from rsx.api import DatasetConfig, at_least, or_null, ranged


@dataclasses.dataclass
class MovieLensConfig(DatasetConfig):
    """MovieLens ratings of one GroupLens release, with the side features that release has."""

    # Plugin name; selects this dataset.
    dataset: str = "movielens"
    # Dataset name as it appears in tags and the prepared-data cache.
    name: str = "movielens"
    # The release: 100k | 1m | 20m | 25m | latest_small.
    variant: str = "100k"
    # Where the ratings come from: "tfds" (TensorFlow Datasets) or "files" (raw GroupLens files:
    # u.data/ratings.dat for 100k/1m, ratings.csv/movies.csv/tags.csv for the CSV releases).
    source: str = "tfds"
    # TFDS data_dir; null = TFDS's default (~/tensorflow_datasets). Used when source=tfds.
    data_dir: Optional[str] = None
    # Whether TFDS may download when the data is not in data_dir (needs internet).
    download: bool = True
    # The extracted GroupLens folder (ml-100k/, ml-latest-small/, ...), the folder holding it,
    # or (100k/1m) its zip. Used when source=files.
    path: Optional[str] = None
    # With source=files, the row order the split shuffle starts from: "file" (the lines of the
    # ratings file) or "tfds" (the order TFDS stores the same rows in, which makes the split
    # identical to the TFDS/tutorial split; 100k only).
    row_order: str = "file"
    # Read the release's side features: 100k/1m: age, gender, occupation, zip_prefix (users),
    # genres, year (items); CSV releases: genres, tags, year. The timestamp is always kept.
    side_features: bool = True
    # The tutorials' tf.data shuffle (buffer 100_000, seed 42), so every MovieLens preset and
    # the tutorials split the same rows (null: a NumPy permutation, see rsx/config.py).
    shuffle_buffer: Optional[int] = ranged(100_000, or_null(at_least(1)))
    # Longest tag list per movie kept (tags.csv; the most frequent tags come first).
    max_tags: int = 20
