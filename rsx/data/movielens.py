"""MovieLens ratings -> `PreparedData`, the same way whichever source they came from.

The sources (`movielens_tfds`, `grouplens_files`) only read rows in their stored order; the
tutorials' preprocessing (int ids, `(rating - 1) / 4` labels, the seeded shuffle split,
vocabularies of largest id + 1) lives here once, so both sources agree by construction.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rsx.config import MovieLensConfig
from rsx.data import split
from rsx.data.integrity import check_splits, clean
from rsx.data.prepared import LABEL, ITEM_ID, RATING, USER_ID, PreparedData
from rsx.errors import ConfigError, DataError

#: MovieLens releases rsx knows how to read.
VARIANTS = ("100k", "1m")
#: Where `data.source` may point.
SOURCES = ("tfds", "files")
#: Row orders the split shuffle may start from when `data.source=files`.
ROW_ORDERS = ("file", "tfds")


@dataclasses.dataclass
class RawRatings:
    """Ratings in the order their source stores them, before any preprocessing.

    Args:
        user_id: int32 user ids (from 1).
        movie_id: int32 movie ids (from 1).
        rating: float32 star ratings, 1..5.
        titles: movie id -> title, from the source's movies table.
    """

    user_id: np.ndarray
    movie_id: np.ndarray
    rating: np.ndarray
    titles: dict[int, str]


def check_config(cfg: MovieLensConfig) -> None:
    """Rejects settings no source can honour, before any file or TFDS is touched."""
    if cfg.variant not in VARIANTS:
        raise ConfigError(f"data.variant={cfg.variant!r} is not a MovieLens release rsx reads",
                          f"use one of {', '.join(VARIANTS)}")
    if cfg.source not in SOURCES:
        raise ConfigError(f"data.source={cfg.source!r} is unknown", f"use one of {', '.join(SOURCES)}")
    if cfg.row_order not in ROW_ORDERS:
        raise ConfigError(f"data.row_order={cfg.row_order!r} is unknown",
                          f"use one of {', '.join(ROW_ORDERS)}")
    if cfg.source == "files" and cfg.row_order == "tfds" and cfg.variant != "100k":
        # TFDS stores 1m in several shards and interleaves them on reading; the shard
        # count follows TFDS's serialized size, which the raw files cannot reproduce.
        raise ConfigError("data.row_order=tfds is only reproducible for data.variant=100k",
                          "use data.row_order=file, or data.source=tfds")
    split.check_split_config(cfg)


def prepare_movielens(cfg: MovieLensConfig) -> PreparedData:
    """Reads MovieLens from `cfg.source` and prepares it as the KerasRS tutorials do.

    Args:
        cfg: the `data.*` settings (see `rsx.config.MovieLensConfig`).
    """
    check_config(cfg)
    if cfg.source == "tfds":
        from rsx.data import movielens_tfds

        ratings = movielens_tfds.read_ratings(cfg)
    else:
        from rsx.data import grouplens_files

        ratings = grouplens_files.read_ratings(cfg.path, cfg.variant)
        if cfg.row_order == "tfds":
            from rsx.data.tfds_order import tfds_storage_order

            order = tfds_storage_order(len(ratings.rating))
            ratings = dataclasses.replace(
                ratings,
                user_id=ratings.user_id[order],
                movie_id=ratings.movie_id[order],
                rating=ratings.rating[order],
            )
    return to_prepared(cfg, ratings)


def to_prepared(cfg: MovieLensConfig, ratings: RawRatings) -> PreparedData:
    """Applies the tutorials' preprocessing and split to ratings in source order.

    Args:
        cfg: supplies `name` and the split/integrity keys (`rsx.config.SplitConfig`).
        ratings: rows in the order the source stores them; the split depends on it.
    """
    num_rows = len(ratings.rating)
    if num_rows == 0:
        raise DataError(f"MovieLens {cfg.variant} ({cfg.source}) holds no ratings",
                        "check data.path / data.data_dir")
    rating = ratings.rating.astype(np.float32)
    columns = {
        USER_ID: ratings.user_id.astype(np.int32),
        ITEM_ID: ratings.movie_id.astype(np.int32),
        # Same float32 arithmetic as the tutorials' `(x["user_rating"] - 1.0) / 4.0`.
        LABEL: (rating - np.float32(1.0)) / np.float32(4.0),
        RATING: rating,
    }
    vocabulary_sizes = {
        USER_ID: int(columns[USER_ID].max()) + 1,
        ITEM_ID: int(columns[ITEM_ID].max()) + 1,
    }
    columns, report = _cleaned(columns, cfg)
    rows = split.split_rows(len(columns[LABEL]), cfg, users=columns[USER_ID])
    report.update(check_splits(rows, columns[USER_ID], columns[ITEM_ID], cfg.name))
    train, validation, test = split.split_columns(columns, rows)
    return PreparedData(
        name=cfg.name,
        train=train,
        validation=validation,
        test=test,
        report=report,
        vocabulary_sizes=vocabulary_sizes,
        titles=titles_by_id(ratings.titles, vocabulary_sizes[ITEM_ID]),
    )


def _cleaned(columns: dict[str, np.ndarray], cfg: MovieLensConfig):
    """`integrity.clean` over the columns (MovieLens has no repeated pairs: rows unchanged
    unless a filter is set)."""
    import pandas as pd

    frame, report = clean(pd.DataFrame(columns), cfg, USER_ID, ITEM_ID, RATING, None)
    return {name: frame[name].to_numpy() for name in columns}, report


def titles_by_id(titles: dict[int, str], size: int) -> np.ndarray:
    """Lays titles out so that `array[movie_id]` is the title; unknown ids (and 0) get "".

    The array has exactly as many rows as the movie table (`size`), so any id a model can
    return has a title slot.
    """
    laid_out = [""] * size
    for movie_id, title in titles.items():
        if 0 < movie_id < size:
            laid_out[movie_id] = title
    return np.array(laid_out, dtype=str)
