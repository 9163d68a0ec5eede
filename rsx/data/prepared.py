"""The prepared, framework-free form of a dataset that every backend trains on.

Data preparation (TFDS, raw files, synthetic generation) ends here: plain NumPy arrays, so the
result can be cached on disk and handed to any backend, and so nothing in this module needs
TensorFlow or JAX.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Optional

import numpy as np

from rsx.data.schema import Schema
from rsx.errors import DataError

#: Column names every prepared split carries (see `Schema`).
USER_ID = "user_id"
ITEM_ID = "item_id"
LABEL = "label"
RATING = "rating"
TIMESTAMP = "timestamp"
COLUMNS = (USER_ID, ITEM_ID, LABEL, RATING)

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass
class PreparedData:
    """Train/validation/test interactions, side features and vocabularies.

    Args:
        name: dataset name as it appears in tags, e.g. "movielens_100k".
        train: column name -> 1-D array, one row per interaction: `user_id`/`item_id` int32
            dense rows (0 = out of vocabulary), `label` float32 (the training target, in
            [0, 1] for explicit ratings), `rating` float32 on the original scale, `timestamp`
            int64 seconds if the data has one, and interaction-level side features.
        validation: same columns; what training validates on (early stopping, searches).
        test: same columns; evaluated once, at the end.
        vocabulary_sizes: column or feature -> table rows needed (row 0 included).
        titles: item row -> display title; row 0 is "".
        schema: what the columns mean and which side features exist.
        user_features: side feature -> array indexed by user row, shape (rows,) or
            (rows, max_length) for multi_hot/sequence (see `rsx.data.schema`).
        item_features: the same, indexed by item row.
        vocabularies: `user_id`/`item_id` (and categorical features) -> the raw value of each
            row (row 0 holds the out-of-vocabulary placeholder). Empty when raw ids are table
            rows (the tutorial presets keep their exact tables).
        validation_is_test: the validation split is the test split (tutorial presets only);
            recorded as the tag `rsx.validation=test`.
        report: integrity counts (duplicates merged, rows filtered, cold users/items...).
        source: where the data came from (a path or a TFDS name), for provenance.
    """

    name: str
    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    vocabulary_sizes: dict[str, int]
    titles: np.ndarray
    validation: Optional[dict[str, np.ndarray]] = None
    schema: Schema = dataclasses.field(default_factory=Schema)
    user_features: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    item_features: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    vocabularies: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    validation_is_test: bool = False
    report: dict[str, float] = dataclasses.field(default_factory=dict)
    source: str = ""

    def __post_init__(self):
        if self.validation is None:  # No split of its own: the tutorials' validation = test.
            self.validation = self.test
            self.validation_is_test = True

    @property
    def num_train(self) -> int:
        return int(len(self.train[LABEL]))

    @property
    def num_validation(self) -> int:
        return int(len(self.validation[LABEL]))

    @property
    def num_test(self) -> int:
        return int(len(self.test[LABEL]))

    def split(self, name: str) -> dict[str, np.ndarray]:
        """The columns of split `name` ("train", "validation" or "test")."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; one of {SPLITS}")
        return getattr(self, name)

    def columns(self, split: str, names: list[str]) -> dict[str, np.ndarray]:
        """Per-interaction columns `names` of `split`, user/item features gathered by id.

        A user feature `f` comes back as `user_features[f][split.user_id]`, one row per
        interaction, shape (rows,) or (rows, max_length); likewise for item features.

        Raises:
            DataError: a name is neither a column of the split nor a side feature.
        """
        rows = self.split(split)
        out = {}
        for name in names:
            if name in rows:
                out[name] = rows[name]
            elif name in self.user_features:
                out[name] = self.user_features[name][rows[self.schema.user]]
            elif name in self.item_features:
                out[name] = self.item_features[name][rows[self.schema.item]]
            else:
                known = sorted(set(rows) | set(self.user_features) | set(self.item_features))
                raise DataError(f"feature '{name}' is not in data '{self.name}'",
                                f"use one of: {', '.join(known)}")
        return out

    def digest(self) -> str:
        """A content digest of every array and the schema (sha256, 16 hex digits).

        Same arrays, same digest, whatever path or config produced them: the job key and the
        MLflow dataset inputs use it to notice that the data behind a config changed.
        """
        h = hashlib.sha256()
        for key, value in sorted(self._arrays().items()):
            h.update(key.encode())
            h.update(str(value.dtype).encode())
            h.update(str(value.shape).encode())
            h.update(np.ascontiguousarray(value).tobytes())
        return h.hexdigest()[:16]

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"train/{k}": v for k, v in self.train.items()}
        if not self.validation_is_test:
            arrays.update({f"validation/{k}": v for k, v in self.validation.items()})
        arrays.update({f"test/{k}": v for k, v in self.test.items()})
        arrays.update({f"user_features/{k}": v for k, v in self.user_features.items()})
        arrays.update({f"item_features/{k}": v for k, v in self.item_features.items()})
        arrays.update({f"vocabularies/{k}": v for k, v in self.vocabularies.items()})
        arrays.update({f"vocab/{k}": np.int64(v) for k, v in self.vocabulary_sizes.items()})
        arrays["titles"] = self.titles.astype(str)
        arrays["name"] = np.array(self.name)
        arrays["schema"] = np.array(json.dumps(self.schema.to_dict(), sort_keys=True))
        arrays["report"] = np.array(json.dumps(self.report, sort_keys=True))
        return arrays

    def save(self, path) -> None:
        """Writes one `.npz` file (no pickle) that `load` reads back."""
        np.savez(path, **self._arrays(), source=np.array(self.source))

    @classmethod
    def load(cls, path) -> "PreparedData":
        with np.load(path, allow_pickle=False) as f:
            parts: dict[str, dict] = {k: {} for k in (
                "train", "validation", "test", "user_features", "item_features", "vocabularies", "vocab")}
            for key in f.files:
                kind, _, column = key.partition("/")
                if kind in parts:
                    parts[kind][column] = int(f[key]) if kind == "vocab" else f[key]
            has_validation = bool(parts["validation"])
            return cls(
                name=str(f["name"]),
                train=parts["train"],
                validation=parts["validation"] if has_validation else None,
                test=parts["test"],
                vocabulary_sizes=parts["vocab"],
                titles=f["titles"],
                schema=Schema.from_dict(json.loads(str(f["schema"]))) if "schema" in f.files else Schema(),
                user_features=parts["user_features"],
                item_features=parts["item_features"],
                vocabularies=parts["vocabularies"],
                report=json.loads(str(f["report"])) if "report" in f.files else {},
                source=str(f["source"]) if "source" in f.files else "",
            )
