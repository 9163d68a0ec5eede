"""MovieLens -> `PreparedData`: read one release from its source, then the shared pipeline.

The sources (`tfds`, `grouplens_files`, `csv_release`) only read rows in their stored order
and the release's side tables; cleaning, the split, vocabularies and feature tables are the
pipeline's (`rsx.api.prepare_interactions`), so every source and every dataset agree by
construction. The tutorial presets (`data=movielens_100k` / `movielens_1m`) set
`vocabulary: raw` and `validation_from: test`, which reproduces the tutorials' arrays exactly.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from rsx.api import ConfigError, DataError, FeatureColumn, Interactions, PreparedData, prepare_interactions

from .config import MovieLensConfig
from .raw import RawRatings

#: MovieLens releases rsx knows how to read.
VARIANTS = ("100k", "1m", "20m", "25m", "latest_small")
#: Releases GroupLens ships as `.dat`/`u.*` files; the others are CSV releases.
DAT_RELEASES = ("100k", "1m")
#: Where `data.source` may point.
SOURCES = ("tfds", "files")
#: Row orders the split shuffle may start from when `data.source=files`.
ROW_ORDERS = ("file", "tfds")
#: Star scale of each release: whole stars in 100k/1m, half stars from 0.5 in the others.
RATING_SCALES = {"100k": (1.0, 5.0), "1m": (1.0, 5.0)}
_HALF_STARS = (0.5, 5.0)
_YEAR = re.compile(r"\((\d{4})\)\s*$")


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
    if cfg.max_tags < 1:
        raise ConfigError(f"data.max_tags={cfg.max_tags} must be at least 1", "use e.g. data.max_tags=20")


def prepare(cfg: MovieLensConfig) -> PreparedData:
    """Reads MovieLens from `cfg.source` and prepares it (see `rsx.api.prepare_interactions`)."""
    check_config(cfg)
    ratings = read(cfg)
    if len(ratings.rating) == 0:
        raise DataError(f"MovieLens {cfg.variant} ({cfg.source}) holds no ratings",
                        "check data.path / data.data_dir")
    return prepare_interactions(to_interactions(cfg, ratings), cfg)


def read(cfg: MovieLensConfig) -> RawRatings:
    """The release's rows in the order the split shuffle starts from."""
    if cfg.source == "tfds":
        from . import tfds

        return tfds.read_ratings(cfg)
    if cfg.variant not in DAT_RELEASES:
        from . import csv_release

        return csv_release.read_ratings(cfg.path, cfg.variant, cfg.side_features)
    from . import grouplens_files

    ratings = grouplens_files.read_ratings(cfg.path, cfg.variant)
    if not cfg.side_features:
        ratings = dataclasses.replace(ratings, genres=None, users=None)
    if cfg.row_order == "tfds":
        from .tfds_order import tfds_storage_order

        order = tfds_storage_order(len(ratings.rating))
        ratings = dataclasses.replace(
            ratings,
            user_id=ratings.user_id[order],
            movie_id=ratings.movie_id[order],
            rating=ratings.rating[order],
            timestamp=None if ratings.timestamp is None else ratings.timestamp[order],
        )
    return ratings


def to_interactions(cfg: MovieLensConfig, ratings: RawRatings) -> Interactions:
    """The pipeline's input: one row per rating, a user table and a movie table by raw id."""
    import pandas as pd

    frame = pd.DataFrame({"user_id": ratings.user_id, "item_id": ratings.movie_id, "rating": ratings.rating})
    if ratings.timestamp is not None:
        frame["timestamp"] = ratings.timestamp
    features: list[FeatureColumn] = []
    users = items = None
    if ratings.users:
        users = pd.DataFrame(ratings.users)
        features += [FeatureColumn("age", "numeric", "user"), FeatureColumn("gender", "categorical", "user"),
                     FeatureColumn("occupation", "categorical", "user"),
                     FeatureColumn("zip_prefix", "categorical", "user")]
    item_columns = {}
    if cfg.side_features:
        years = {m: float(found.group(1)) if (found := _YEAR.search(t.strip())) else np.nan
                 for m, t in ratings.titles.items()}
        item_columns["year"] = years
        features.append(FeatureColumn("year", "numeric", "item"))
    if ratings.genres is not None:
        item_columns["genres"] = ratings.genres
        features.append(FeatureColumn("genres", "multi_hot", "item"))
    if ratings.tags is not None:
        item_columns["tags"] = ratings.tags
        features.append(FeatureColumn("tags", "multi_hot", "item", max_length=cfg.max_tags))
    if item_columns:
        items = pd.DataFrame({name: pd.Series(values, dtype=object if name != "year" else float)
                              for name, values in item_columns.items()})
    return Interactions(
        frame=frame,
        user="user_id",
        item="item_id",
        rating="rating",
        timestamp="timestamp" if ratings.timestamp is not None else None,
        features=tuple(features),
        users=users,
        items=items,
        titles=pd.Series(ratings.titles, dtype=object),
        rating_scale=RATING_SCALES.get(cfg.variant, _HALF_STARS),
        source=ratings.source,
    )


def cache_key(cfg: MovieLensConfig) -> dict[str, object]:
    """Every setting but the cache folder and `download`, and the files' contents (source=files).

    TFDS data_dirs are identified by path: TFDS versions its prepared data itself.
    """
    check_config(cfg)
    fields = dataclasses.asdict(cfg)
    for ignored in ("cache_dir", "download"):
        fields.pop(ignored)
    if cfg.source == "files":
        fields.pop("data_dir")
        if cfg.variant in DAT_RELEASES:
            from .grouplens_files import fingerprint

            fields["files"] = fingerprint(cfg.path, cfg.variant)
        elif cfg.variant in VARIANTS:
            from .csv_release import fingerprint

            fields["files"] = fingerprint(cfg.path, cfg.variant)
    else:
        fields.pop("row_order")
        fields.pop("path")
    return fields
