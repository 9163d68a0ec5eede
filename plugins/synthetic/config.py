"""Config of the synthetic dataset (`data=synthetic`)."""

from __future__ import annotations

import dataclasses

from rsx.api import DatasetConfig, at_least, ranged


@dataclasses.dataclass
class SyntheticConfig(DatasetConfig):
    """Random interactions with a planted low-rank preference structure (for tests and scale)."""

    # Plugin name; selects this dataset.
    dataset: str = "synthetic"
    # Dataset name as it appears in tags and the prepared-data cache.
    name: str = "synthetic"
    # Number of distinct users and items; ids run from 1 and are the table rows (row 0 unused).
    num_users: int = ranged(1_000, at_least(1))
    num_items: int = ranged(500, at_least(1))
    # Number of (user, item, rating) rows generated.
    num_interactions: int = ranged(50_000, at_least(2))
    # Rank of the planted preference matrix; the model must recover it to beat the mean.
    rank: int = ranged(4, at_least(1))
    # Standard deviation of label noise on the [0, 1] label scale.
    noise: float = ranged(0.05, at_least(0))
    # Seed of the generator (independent of trainer.seed).
    seed: int = 0
    # Ids 1..num_users / 1..num_items are the rows already: tables of num + 1 rows.
    vocabulary: str = "raw"
    # Rows are drawn i.i.d., so they are split in generation order (no shuffle needed).
    shuffle_buffer: int = ranged(1, at_least(1))
