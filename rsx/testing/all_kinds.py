"""A tiny model with one feature of every kind, and tiny data with side features for it.

What the feature-kind conformance check (`rsx.testing.feature_probe`) trains on each backend:
ids (`user_id`, `item_id`, the user's `occupation`), the item's multi-hot `genres` (weighted
or not), the item's numeric `year`, and the user's `history`, a sequence of items that shares
the item table and is reduced in the model by a masked mean. Keras is imported only when the
model is built, after the backend's environment is set (like every rsx module outside
`rsx.engine`, importing this one starts no framework).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rsx.contract import FeatureSpec, ModelPlugin, OptimizerSpec, TableSpec
from rsx.data.prepared import PreparedData
from rsx.data.schema import Schema, SideFeature

USERS, ITEMS, OCCUPATIONS, GENRES = 12, 16, 4, 6
GENRES_LENGTH, HISTORY_LENGTH = 3, 4


@dataclasses.dataclass
class AllKindsConfig:
    name: str = "all_kinds"
    # Width of every table.
    embedding_dim: int = 4
    # The genre table's combiner: mean, sum or sqrtn.
    combiner: str = "mean"
    # Whether `genres` is weighted by the `genre_weights` column.
    weighted: bool = True


def all_kinds_data(rows: int = 96, seed: int = 0) -> PreparedData:
    """Random interactions with a label that depends on every feature, so the model learns.

    user_features: occupation (rows,) int32 1..3; history (rows, 4) int32 item ids, 0-padded.
    item_features: genres (rows, 3) int32 1..5, 0-padded; genre_weights (rows, 3) float32
    (0 at padding); year (rows,) float32, standardized.
    """
    rng = np.random.default_rng(seed)

    def padded(count, length, high):
        lengths = rng.integers(0, length + 1, count)
        ids = rng.integers(1, high, (count, length)).astype(np.int32)
        ids[np.arange(length)[None, :] >= lengths[:, None]] = 0
        ids[0] = 0  # row 0: the out-of-vocabulary entity has nothing
        return ids

    genres = padded(ITEMS, GENRES_LENGTH, GENRES)
    user_features = {
        "occupation": rng.integers(1, OCCUPATIONS, USERS).astype(np.int32),
        "history": padded(USERS, HISTORY_LENGTH, ITEMS),
    }
    item_features = {
        "genres": genres,
        "genre_weights": np.where(genres > 0, rng.uniform(0.5, 2.0, genres.shape), 0.0).astype(np.float32),
        "year": rng.standard_normal(ITEMS).astype(np.float32),
    }

    def split(count):
        users = rng.integers(1, USERS, count).astype(np.int32)
        items = rng.integers(1, ITEMS, count).astype(np.int32)
        label = 0.5 + 0.1 * item_features["year"][items] + 0.05 * (genres[items] == 1).sum(1)
        label = label + 0.05 * (user_features["occupation"][users] == 2)
        return {"user_id": users, "item_id": items, "label": label.astype(np.float32),
                "rating": label.astype(np.float32)}

    schema = Schema(features=(
        SideFeature("occupation", "categorical", "user", OCCUPATIONS),
        SideFeature("history", "sequence", "user", ITEMS, HISTORY_LENGTH),
        SideFeature("genres", "multi_hot", "item", GENRES, GENRES_LENGTH),
        SideFeature("year", "numeric", "item"),
    ))
    return PreparedData(
        "all_kinds", split(rows), split(rows // 2), {"user_id": USERS, "item_id": ITEMS},
        np.array([""] * ITEMS), validation=split(rows // 2), schema=schema,
        user_features=user_features, item_features=item_features,
    )


class AllKindsModel(ModelPlugin):
    """Every feature kind into one MLP: concatenated id/multi-hot vectors, the masked mean of
    the history's vectors, and the numeric year."""

    def features(self):
        weights = "genre_weights" if self.config.weighted else None
        return [
            FeatureSpec("user_id", "user"),
            FeatureSpec("item_id", "item"),
            FeatureSpec("occupation", "occupation"),
            FeatureSpec("genres", "genre", "multi_hot", GENRES_LENGTH, weights),
            FeatureSpec("year", kind="numeric"),
            FeatureSpec("history", "item", "sequence", HISTORY_LENGTH),
        ]

    def tables(self):
        dim = self.config.embedding_dim
        return [
            TableSpec("user", USERS, dim, OptimizerSpec("adam", 0.01)),
            TableSpec("item", ITEMS, dim),
            TableSpec("occupation", OCCUPATIONS, dim),
            TableSpec("genre", GENRES, dim, combiner=self.config.combiner),
        ]

    def build(self, embeddings, global_batch_size):
        import keras  # Here, not at the top: the backend's environment is set by now.
        from keras import ops

        inputs = {
            name: keras.Input(shape=spec.shape, dtype="float32" if name != spec.name else spec.dtype, name=name)
            for spec in self.features() for name in spec.inputs()
        }
        vectors = embeddings({k: v for k, v in inputs.items() if k != "year"})
        history = inputs["history"]
        mask = ops.expand_dims(ops.cast(ops.not_equal(history, 0), "float32"), -1)
        count = ops.maximum(ops.sum(mask, axis=1), 1.0)
        history_mean = ops.divide(ops.sum(ops.multiply(vectors["history"], mask), axis=1), count)
        x = keras.layers.Concatenate()([
            vectors["user_id"], vectors["item_id"], vectors["occupation"], vectors["genres"],
            history_mean, ops.expand_dims(inputs["year"], -1),
        ])
        x = keras.layers.Dense(8, activation="relu", name="hidden")(x)
        return keras.Model(inputs, keras.layers.Dense(1, name="score")(x), name="all_kinds")

    def optimizer(self):
        return OptimizerSpec("adam", 0.01)
