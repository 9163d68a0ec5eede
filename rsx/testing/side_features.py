"""A tiny `PreparedData` with one side feature of each kind, for model tests.

Ratings follow a planted rule that only side features explain well, so a model that reads
them beats the mean predictor within an epoch or two:

    rating = 3 + 0.8 * [item has genre 1] - 0.8 * [item has genre 2] + 0.5 * year
             + 0.4 * (occupation == 1) - 0.4 * (occupation == 2) + noise,  clipped to 0.5..5

Framework-free: NumPy only.
"""

from __future__ import annotations

import numpy as np

from rsx.data.prepared import ITEM_ID, LABEL, RATING, USER_ID, PreparedData
from rsx.data.schema import Schema, SideFeature

USERS, ITEMS, GENRES, OCCUPATIONS, MAX_GENRES, HISTORY = 40, 60, 6, 4, 3, 4


def side_feature_data(rows: int = 3000, seed: int = 0) -> PreparedData:
    """Train/validation/test (70/10/20 %) of `rows` interactions with side features:
    `occupation` (user, categorical), `genres` (item, multi_hot, max 3), `year` (item,
    numeric, standardized), `history` (user, sequence of 4 item ids)."""
    rng = np.random.default_rng(seed)
    occupation = np.concatenate([[0], rng.integers(1, OCCUPATIONS, USERS)]).astype(np.int32)
    genres = np.zeros((ITEMS + 1, MAX_GENRES), np.int32)
    for item in range(1, ITEMS + 1):
        drawn = np.sort(rng.choice(np.arange(1, GENRES), rng.integers(1, MAX_GENRES + 1), replace=False))
        genres[item, : len(drawn)] = drawn
    year = np.concatenate([[0.0], rng.standard_normal(ITEMS)]).astype(np.float32)
    history = np.zeros((USERS + 1, HISTORY), np.int32)
    history[1:, :3] = rng.integers(1, ITEMS + 1, (USERS, 3))

    users = rng.integers(1, USERS + 1, rows).astype(np.int32)
    items = rng.integers(1, ITEMS + 1, rows).astype(np.int32)
    has = lambda genre: np.any(genres[items] == genre, axis=1)  # noqa: E731
    rating = (3.0 + 0.8 * has(1) - 0.8 * has(2) + 0.5 * year[items]
              + 0.4 * (occupation[users] == 1) - 0.4 * (occupation[users] == 2)
              + 0.3 * rng.standard_normal(rows))
    rating = np.clip(rating, 0.5, 5.0).astype(np.float32)
    columns = {USER_ID: users, ITEM_ID: items, RATING: rating, LABEL: ((rating - 0.5) / 4.5).astype(np.float32)}
    cut = [int(rows * 0.7), int(rows * 0.8)]
    train, validation, test = ({k: v[a:b] for k, v in columns.items()} for a, b in zip([0, *cut], [*cut, rows]))
    schema = Schema(
        rating_scale=(0.5, 5.0),
        features=(
            SideFeature("occupation", "categorical", "user", vocabulary_size=OCCUPATIONS),
            SideFeature("genres", "multi_hot", "item", vocabulary_size=GENRES, max_length=MAX_GENRES),
            SideFeature("year", "numeric", "item", mean=2000.0, std=10.0),
            SideFeature("history", "sequence", "user", vocabulary_size=ITEMS + 1, max_length=HISTORY),
        ),
    )
    return PreparedData(
        "side_features",
        train,
        test,
        {USER_ID: USERS + 1, ITEM_ID: ITEMS + 1},
        np.array([""] + [f"Item {i}" for i in range(1, ITEMS + 1)]),
        validation=validation,
        schema=schema,
        user_features={"occupation": occupation, "history": history},
        item_features={"genres": genres, "year": year},
    )
