"""Config of the interactions dataset (`data=interactions`): your own CSV / TSV / Parquet files."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from rsx.api import DatasetConfig


@dataclasses.dataclass
class ColumnsConfig:
    """Which columns of the interactions file mean what."""

    # The user id and item id columns (required).
    user: str = "user_id"
    item: str = "item_id"
    # An explicit rating (data.target=rating), a 0/1 or weighted label, a time column
    # (integer seconds or a date/time text); null = the file has none.
    rating: Optional[str] = None
    label: Optional[str] = None
    timestamp: Optional[str] = None
    # How ids are read: "auto" (integers when every id is written as one, else text, so a
    # file's "007" and "7" stay two ids), "int" (must be integers: a text id is an error naming
    # its line) or "str" (always text).
    id_type: str = "auto"
    # A display title per item, from the item feature file (or the interactions file).
    title: Optional[str] = None


@dataclasses.dataclass
class FeatureConfig:
    """A side-feature column (its name is the key under data.features)."""

    # categorical (one value) | multi_hot (a list in one cell, `separator` between tokens) | numeric.
    kind: str = "categorical"
    # user | item (a property of the id: from the user/item feature file, else the last value
    # per id in the interactions) | interaction (one value per interaction row).
    entity: str = "item"
    # multi_hot: the token separator inside a cell.
    separator: str = "|"
    # multi_hot: padded width; 0 = the longest list in the training data.
    max_length: int = 0


@dataclasses.dataclass
class InteractionsConfig(DatasetConfig):
    """One row per interaction in a CSV / TSV / Parquet file or a folder of them."""

    # Plugin name; selects this dataset.
    dataset: str = "interactions"
    # Dataset name as it appears in tags and the prepared-data cache.
    name: str = "interactions"
    # The interactions: a .csv/.tsv/.txt/.parquet file, or a folder of them (read in name order).
    path: Optional[str] = None
    # Field separator of text files; null = by extension ("," for .csv, tab for .tsv/.txt).
    sep: Optional[str] = None
    # Text encoding of text files.
    encoding: str = "utf-8"
    # Column mapping (see ColumnsConfig): data.columns.user=userId data.columns.item=movieId ...
    columns: ColumnsConfig = dataclasses.field(default_factory=ColumnsConfig)
    # Side features by column name, each with the keys of FeatureConfig (kind, entity, separator,
    # max_length), e.g. +data.features.genres={kind:multi_hot,entity:item}. (Values stay plain
    # mappings here, checked when the data is read: OmegaConf 2.3 rejects a dict assigned into a
    # mapping of dataclasses, which is what a command-line override does.)
    features: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Optional user / item feature files, joined on the id column (same name as in
    # data.columns.user / data.columns.item).
    user_features_path: Optional[str] = None
    item_features_path: Optional[str] = None
    # (lowest, highest) rating for the label's scaling; null = the training rows' range.
    rating_scale: Optional[list[float]] = None
