"""Synthetic interactions with a planted low-rank preference, for tests and for scale.

Each user u and item i get latent factors and a bias; the expected label is
`sigmoid(U[u] . V[i] + b_user[u] + b_item[i])`, and the observed label adds Gaussian noise
(std `noise`) and is clipped to [0, 1]. A model that recovers the factors reaches a test MSE
near `noise**2`; predicting the mean cannot go below the label variance (about 0.045 with
the default scales), so learning is visible at once. The rating is `1 + 4 * label`, not
rounded: it stays on MovieLens's 1..5 scale while keeping the label's full signal, and
`(rating - 1) / 4` gives the label back as for MovieLens.

Rows are drawn i.i.d. (uniform users and items), so they are split in generation order
(`shuffle_buffer: 1`), and repeated (user, item) pairs are repeated observations, not errors:
the pipeline's duplicate and count filters are skipped. Generation is vectorised in fixed-size chunks into preallocated
int32/float32 columns, so tens of millions of rows fit in memory (16 bytes per row), and a
chunk's random stream depends only on (seed, chunk index): the data never depends on memory.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rsx.api import ConfigError, FeatureColumn, Interactions, PreparedData, prepare_interactions

from .config import SyntheticConfig

USER_ID, ITEM_ID, LABEL, RATING = "user_id", "item_id", "label", "rating"
# Rows generated per chunk; part of the data's definition (changing it changes the rows).
_CHUNK = 1 << 18
# Standard deviation of the user and item biases on the logit scale.
_BIAS_STD = 0.5


@dataclasses.dataclass
class PlantedPreferences:
    """The hidden structure behind a synthetic dataset: what a model should recover.

    Args:
        user_factors: (num_users + 1, rank) float32; row 0 is unused.
        item_factors: (num_items + 1, rank) float32; row 0 is unused.
        user_bias: (num_users + 1,) float32 logit offsets.
        item_bias: (num_items + 1,) float32 logit offsets.
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray

    def expected_label(self, user_id: np.ndarray, item_id: np.ndarray) -> np.ndarray:
        """The noise-free label of each (user, item) pair, in (0, 1), float32."""
        logits = np.einsum("ij,ij->i", self.user_factors[user_id], self.item_factors[item_id])
        logits += self.user_bias[user_id] + self.item_bias[item_id]
        with np.errstate(over="ignore"):
            return (np.float32(1.0) / (np.float32(1.0) + np.exp(-logits))).astype(np.float32)


def planted_preferences(cfg: SyntheticConfig) -> PlantedPreferences:
    """Draws the factors and biases of `cfg` (deterministic in `cfg.seed`).

    Factor entries have std `rank ** -0.25`, so `U[u] . V[i]` has unit variance at any rank.
    """
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(0,)))
    scale = np.float32(cfg.rank**-0.25)
    return PlantedPreferences(
        user_factors=rng.standard_normal((cfg.num_users + 1, cfg.rank), dtype=np.float32) * scale,
        item_factors=rng.standard_normal((cfg.num_items + 1, cfg.rank), dtype=np.float32) * scale,
        user_bias=rng.standard_normal(cfg.num_users + 1, dtype=np.float32) * np.float32(_BIAS_STD),
        item_bias=rng.standard_normal(cfg.num_items + 1, dtype=np.float32) * np.float32(_BIAS_STD),
    )


def prepare_synthetic(cfg: SyntheticConfig) -> PreparedData:
    """Generates `cfg.num_interactions` rows and prepares them (split, side features).

    Args:
        cfg: the `data.*` settings (see `SyntheticConfig`).
    """
    import pandas as pd

    _check(cfg)
    planted = planted_preferences(cfg)
    columns = generate(cfg, planted)
    users, items = side_features(cfg, planted)
    interactions = Interactions(
        frame=pd.DataFrame(columns),
        user=USER_ID, item=ITEM_ID, rating=RATING, label=LABEL,
        features=(FeatureColumn("segment", "categorical", "user"),
                  FeatureColumn("tags", "multi_hot", "item"),
                  FeatureColumn("quality", "numeric", "item")),
        users=users, items=items,
        titles=pd.Series({i: f"item {i}" for i in range(1, cfg.num_items + 1)}),
        rating_scale=(1.0, 5.0),
        id_counts=(cfg.num_users, cfg.num_items),
        source=f"synthetic:seed={cfg.seed}",
    )
    return prepare_interactions(interactions, cfg, clean=False)


def side_features(cfg: SyntheticConfig, planted: PlantedPreferences):
    """User and item tables derived from the planted structure, so they carry signal.

    - `segment` (user, categorical): the factor dimension with the user's largest entry,
      as "s0".."s{rank-1}".
    - `tags` (item, multi_hot): "t<d>+" / "t<d>-" for the two dimensions with the item's
      largest absolute factors (their signs).
    - `quality` (item, numeric): the item's bias plus noise (std 0.1), on the logit scale.

    They use their own random stream, so the rows and labels do not change with them.
    """
    import pandas as pd

    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(2,)))
    users = pd.DataFrame({"segment": [f"s{d}" for d in np.argmax(planted.user_factors[1:], axis=1)]},
                         index=np.arange(1, cfg.num_users + 1))
    top = np.argsort(-np.abs(planted.item_factors[1:]), axis=1)[:, :2]
    signs = np.take_along_axis(planted.item_factors[1:], top, axis=1) > 0
    tags = [[f"t{d}{'+' if s else '-'}" for d, s in zip(dims, sign)] for dims, sign in zip(top, signs)]
    quality = planted.item_bias[1:] + rng.standard_normal(cfg.num_items).astype(np.float32) * np.float32(0.1)
    items = pd.DataFrame({"tags": pd.Series(tags, dtype=object).to_numpy(), "quality": quality},
                         index=np.arange(1, cfg.num_items + 1))
    return users, items


def generate(cfg: SyntheticConfig, planted: PlantedPreferences) -> dict[str, np.ndarray]:
    """The interaction rows: user_id, item_id (int32), label, rating (float32)."""
    n = cfg.num_interactions
    columns = {
        USER_ID: np.empty(n, np.int32),
        ITEM_ID: np.empty(n, np.int32),
        LABEL: np.empty(n, np.float32),
    }
    for index, start in enumerate(range(0, n, _CHUNK)):
        stop = min(start + _CHUNK, n)
        rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(1, index)))
        users = rng.integers(1, cfg.num_users + 1, size=stop - start, dtype=np.int32)
        items = rng.integers(1, cfg.num_items + 1, size=stop - start, dtype=np.int32)
        label = planted.expected_label(users, items)
        label += rng.standard_normal(stop - start, dtype=np.float32) * np.float32(cfg.noise)
        np.clip(label, 0.0, 1.0, out=label)
        columns[USER_ID][start:stop] = users
        columns[ITEM_ID][start:stop] = items
        columns[LABEL][start:stop] = label
    columns[RATING] = np.float32(1.0) + np.float32(4.0) * columns[LABEL]
    return columns


def _check(cfg: SyntheticConfig) -> None:
    for key in ("num_users", "num_items", "rank"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"data.{key}={getattr(cfg, key)} must be at least 1",
                              f"set data.{key} to a positive integer")
    if cfg.num_interactions < 2:
        raise ConfigError(f"data.num_interactions={cfg.num_interactions} leaves no train/test split",
                          "set data.num_interactions to at least 2")
    if cfg.noise < 0:
        raise ConfigError(f"data.noise={cfg.noise} is negative", "set data.noise >= 0 (e.g. 0.05)")
