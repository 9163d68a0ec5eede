"""Config of the RecBole atomic-files dataset (`data=recbole`)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from rsx.api import DatasetConfig


@dataclasses.dataclass
class RecBoleConfig(DatasetConfig):
    """RecBole atomic files: `<stem>.inter` and optionally `<stem>.user`, `<stem>.item`."""

    # Plugin name; selects this dataset.
    dataset: str = "recbole"
    # Dataset name as it appears in tags and the prepared-data cache.
    name: str = "recbole"
    # The folder holding the atomic files (RecBole's data_path/<dataset>/).
    path: Optional[str] = None
    # File stem (`ml-1m` for ml-1m.inter); null = the folder's name.
    stem: Optional[str] = None
    # Field names, as RecBole's USER_ID_FIELD, ITEM_ID_FIELD, RATING_FIELD, TIME_FIELD (without
    # their `:type` suffix); a field the .inter file lacks is simply not used.
    user_field: str = "user_id"
    item_field: str = "item_id"
    rating_field: Optional[str] = "rating"
    label_field: Optional[str] = None
    time_field: Optional[str] = "timestamp"
    # An .item field shown as the item's title (e.g. movie_title); null = none.
    title_field: Optional[str] = None
    # Separator inside token_seq / float_seq values (RecBole's seq_separator).
    seq_separator: str = " "
    # Separator between fields (RecBole's field_separator).
    field_separator: str = "\t"
