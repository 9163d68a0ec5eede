"""What a prepared dataset holds, declared: ids, target, timestamp and side features.

Models read the schema to know which features exist and how big their tables are; nothing in
the contract is named after the first dataset (`item_id`, never `item_id`). Framework-free.

Feature layout (torchrec's jagged batch, padded to a static width so every backend, SparseCore
included, sees fixed shapes):

    kind         one entity row        dtype    padding / missing
    categorical  ()                    int32    0 = out of vocabulary / missing
    multi_hot    (max_length,)         int32    0 = padding; ids 1..vocabulary_size-1
    numeric      ()                    float32  standardized with training-split mean/std
    sequence     (max_length,)         int32    0 = padding; time-ordered, oldest first

Example: genres of three movies with `max_length=3`:

    item  genres (raw)            row of `item_features["genres"]`
    1     Comedy|Romance          [4, 9, 0]
    2     Drama                   [6, 0, 0]
    3     (no genres listed)      [0, 0, 0]
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from rsx.errors import DataError

FEATURE_KINDS = ("categorical", "multi_hot", "numeric", "sequence")
ENTITIES = ("user", "item", "interaction")
TARGETS = ("rating", "implicit")


@dataclasses.dataclass(frozen=True)
class SideFeature:
    """A side feature of the prepared data.

    Args:
        name: its column name, e.g. "genres", "occupation", "age", "year".
        kind: one of `FEATURE_KINDS` (see the module docstring for shapes and dtypes).
        entity: "user" or "item" (stored once per entity in `PreparedData.user_features` /
            `item_features`, indexed by the dense id row) or "interaction" (one value per
            row of the splits, e.g. the hour of the rating).
        vocabulary_size: rows its table needs, row 0 included (categorical, multi_hot,
            sequence); 0 for numeric.
        max_length: padded width (multi_hot, sequence); 1 otherwise.
        mean: numeric only: training-split mean the values were centred with (raw units).
        std: numeric only: training-split standard deviation they were scaled by.
    """

    name: str
    kind: str
    entity: str
    vocabulary_size: int = 0
    max_length: int = 1
    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self):
        if self.kind not in FEATURE_KINDS:
            raise DataError(f"side feature '{self.name}' has unknown kind '{self.kind}'",
                            f"use one of: {', '.join(FEATURE_KINDS)}")
        if self.entity not in ENTITIES:
            raise DataError(f"side feature '{self.name}' has unknown entity '{self.entity}'",
                            f"use one of: {', '.join(ENTITIES)}")


@dataclasses.dataclass(frozen=True)
class Schema:
    """The columns of a `PreparedData` and what they mean.

    Args:
        user: the user id column (dense rows 1..n, 0 = out of vocabulary).
        item: the item id column (same convention).
        target: "rating" (explicit; `rating` holds the raw value, `label` the value scaled to
            [0, 1] over `rating_scale`) or "implicit" (`label` is 1.0 for every interaction).
        rating_scale: (lowest, highest) rating for explicit targets, e.g. (0.5, 5.0).
        timestamp: the timestamp column (int64 seconds), or None when the data has none.
        features: the side features, in a stable order.
    """

    user: str = "user_id"
    item: str = "item_id"
    target: str = "rating"
    rating_scale: Optional[tuple[float, float]] = (1.0, 5.0)
    timestamp: Optional[str] = None
    features: tuple[SideFeature, ...] = ()

    def feature(self, name: str) -> SideFeature:
        """The side feature called `name`; a missing one is a one-line `DataError`."""
        for feature in self.features:
            if feature.name == name:
                return feature
        known = ", ".join(f.name for f in self.features) or "none"
        raise DataError(f"feature '{name}' is not in the data (side features: {known})",
                        "remove it from the model's features or use data that has it")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields: dict) -> "Schema":
        fields = dict(fields)
        fields["features"] = tuple(SideFeature(**f) for f in fields.get("features", ()))
        scale = fields.get("rating_scale")
        fields["rating_scale"] = tuple(scale) if scale is not None else None
        return cls(**fields)
