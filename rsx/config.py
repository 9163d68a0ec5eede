"""Typed schemas for the core config groups (data, trainer, tracking).

Each dataclass is stored in Hydra's ConfigStore as `<group>/_schema_<name>`; the YAML files in
`conf/<group>/` start from one of them in their defaults list, so OmegaConf rejects a wrong
type or an unknown key with the key named, while the YAML stays the readable place where
defaults live. Backend and model schemas come from their plugins (see `rsx.discovery`).

Nothing here imports Keras, TensorFlow or JAX: composing a config must stay cheap.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from hydra.core.config_store import ConfigStore


@dataclasses.dataclass
class MovieLensConfig:
    """MovieLens ratings, prepared exactly as the KerasRS tutorials do."""

    # Dataset name as it appears in tags and the prepared-data cache.
    name: str = "movielens_100k"
    # "100k" or "1m": which MovieLens release.
    variant: str = "100k"
    # Where the ratings come from: "tfds" (TensorFlow Datasets) or "files" (raw GroupLens files).
    source: str = "tfds"
    # TFDS data_dir; null = TFDS's default (~/tensorflow_datasets). Used when source=tfds.
    data_dir: Optional[str] = None
    # Whether TFDS may download when the data is not in data_dir (needs internet).
    download: bool = True
    # An extracted GroupLens folder (ml-100k/, ml-1m/) or its zip. Used when source=files.
    path: Optional[str] = None
    # With source=files, the row order the split shuffle starts from: "file" (the lines of the
    # ratings file) or "tfds" (the order TFDS stores the same rows in, which makes the split
    # identical to the TFDS/tutorial split; 100k only).
    row_order: str = "file"
    # tf.data shuffle buffer and seed of the one-time split shuffle (the tutorials: 100_000, 42).
    shuffle_buffer: int = 100_000
    split_seed: int = 42
    # Fraction of the shuffled rows that form the training split; the rest is the test split.
    train_fraction: float = 0.8
    # Where prepared arrays are cached; null = <tracking root>/.rsx_cache. "" disables caching.
    cache_dir: Optional[str] = None


@dataclasses.dataclass
class SyntheticConfig:
    """Random interactions with a planted low-rank preference structure (for tests and scale)."""

    name: str = "synthetic"
    # Number of distinct users and items; ids run from 1 (row 0 unused, as in MovieLens).
    num_users: int = 1_000
    num_items: int = 500
    # Number of (user, item, rating) rows generated.
    num_interactions: int = 50_000
    # Rank of the planted preference matrix; the model must recover it to beat the mean.
    rank: int = 4
    # Standard deviation of label noise on the [0, 1] label scale.
    noise: float = 0.05
    # Seed of the generator (independent of trainer.seed).
    seed: int = 0
    # Fraction of rows that form the training split.
    train_fraction: float = 0.8
    # Where prepared arrays are cached; null = <tracking root>/.rsx_cache. "" disables caching.
    cache_dir: Optional[str] = None


@dataclasses.dataclass
class TrainerConfig:
    """How `model.fit` is driven; the same keys on every backend."""

    # Number of passes over the training split.
    epochs: int = 5
    # Examples per replica per step; the global batch is this times the backend's replicas.
    batch_size: int = 256
    # The global batch (all replicas together), replacing batch_size when set; it must divide
    # evenly over the backend's replicas. Pins a published setup on any number of devices.
    global_batch_size: Optional[int] = None
    # Seeds Python, NumPy and the Keras backend: the same seed gives the same run.
    seed: int = 42
    # Evaluate on the test split every N epochs (the final evaluation always runs).
    validation_freq: int = 1
    # Reshuffle the training split every epoch; false keeps the tutorials' fixed batch order.
    shuffle: bool = True
    # Keras verbosity: 0 silent, 1 progress bar, 2 one line per epoch.
    verbose: int = 1
    # Batches run per compiled call (Keras steps_per_execution); >1 cuts per-step overhead.
    steps_per_execution: int = 1
    # Rows of a multi_hot/sequence feature with more ids than the model's max_length:
    # "truncate" (a multi_hot keeps its first ids, a sequence its latest; the count is logged)
    # or "error".
    feature_overflow: str = "truncate"
    # Save model and optimizer state after every epoch, so a killed job can be resumed.
    # Not part of the job's key (nor are checkpoint_dir and resume).
    checkpoint: bool = True
    # Root of the checkpoints; each job uses <root>/<job key>/, removed once it FINISHED.
    # null = <RSX_HOME or the launch directory>/checkpoints.
    checkpoint_dir: Optional[str] = None
    # Rerunning a job that was killed (its run RUNNING or KILLED) continues that MLflow run
    # from the last checkpoint; false starts a new run from scratch.
    resume: bool = True
    # Train in a fresh `python -m rsx.worker` process that gets the backend's environment before
    # anything imports Keras (default). false trains in this process, e.g. under a debugger;
    # jobs of a multirun always get a fresh process. Not part of the job's key.
    isolate: bool = True


@dataclasses.dataclass
class TrackingConfig:
    """Where and how runs are recorded in MLflow."""

    # Record the run in MLflow at all.
    enabled: bool = True
    # MLflow tracking URI; the default is an absolute SQLite file where rsx was launched.
    uri: str = "sqlite:///${hydra:runtime.cwd}/mlflow.db"
    # MLflow experiment that runs are grouped under.
    experiment: str = "rsx"
    # Run name; null = "<model>-<backend>-<dataset>".
    run_name: Optional[str] = None
    # Multirun only: skip a job whose identical config (tag `rsx.job_key`) already FINISHED in
    # this experiment and report that run's result instead; false reruns every job.
    skip_finished: bool = True
    # Extra tags on the run. Sweeps set the parent run (`mlflow.parentRunId`) and the job's
    # place in the sweep here; add your own with `+tracking.tags.owner=me`.
    tags: dict[str, str] = dataclasses.field(default_factory=dict)


def register_core_schemas(store: ConfigStore | None = None) -> None:
    """Stores the core schemas so `conf/<group>/*.yaml` can extend them."""
    store = store or ConfigStore.instance()
    store.store(group="data", name="_schema_movielens", node=MovieLensConfig)
    store.store(group="data", name="_schema_synthetic", node=SyntheticConfig)
    store.store(group="trainer", name="_schema", node=TrainerConfig)
    store.store(group="tracking", name="_schema", node=TrackingConfig)
