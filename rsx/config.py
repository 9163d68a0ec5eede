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

from rsx.data.schema import TARGETS
from rsx.data.split import STRATEGIES, VALIDATION_FROM
from rsx.ranges import Range, at_least, between, one_of, or_null, ranged

#: How repeated (user, item) pairs are resolved (`rsx.data.integrity`).
DUPLICATE_POLICIES = ("keep_last", "mean", "error")
#: How raw ids become table rows (`rsx.data.pipeline`).
VOCABULARIES = ("dense", "raw")
#: Which interactions' ids get rows in a dense vocabulary (`rsx.data.pipeline`).
VOCABULARY_FROM = ("all", "train")

#: Keras dtype policies a run may use: variables stay float32 in all of them.
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


@dataclasses.dataclass
class SplitConfig:
    """The split and integrity keys every dataset config shares (see `rsx.data.split`,
    `rsx.data.integrity`); a dataset config extends it and may change a default."""

    # How rows are divided: "random" (the tutorials' seeded tf.data shuffle, then cuts),
    # "random_per_user" (the fractions within each user, RecBole's default), "temporal" (one
    # global time cut: the latest rows are the test split) or "leave_one_out" (each user's
    # last `leave_out` interactions by time are the test split, the ones before validation).
    split: str = ranged("random", one_of(*STRATEGIES))
    # Fraction of the rows for train + validation; the rest is the test split.
    train_fraction: float = ranged(0.8, between(0, 1))
    # Fraction of those training rows held out as the validation split.
    validation_fraction: float = ranged(0.1, between(0, 1))
    # "train": validation is held out of the training rows. "test": validation IS the test
    # split (the tutorials did this; runs are tagged rsx.validation=test). Never tune on it.
    validation_from: str = ranged("train", one_of(*VALIDATION_FROM))
    # Seed of the split's shuffle (random, random_per_user; the tutorials: 42).
    split_seed: int = 42
    # How the "random" split shuffles: null = a uniform NumPy permutation seeded by split_seed
    # (0.5 s on 20M rows); an integer = the tutorials' tf.data shuffle with that buffer, drawn
    # exactly (TensorFlow; 180 s on 5M rows; 1 keeps row order). data=movielens: 100_000.
    shuffle_buffer: Optional[int] = ranged(None, or_null(at_least(1)))
    # leave_one_out: interactions per user held out for test (and as many for validation).
    leave_out: int = ranged(1, at_least(1))
    # Repeated (user, item) pairs: "keep_last" (the latest by timestamp, else by file order),
    # "mean" (the latest row with the mean rating) or "error". The count is reported.
    duplicates: str = ranged("keep_last", one_of(*DUPLICATE_POLICIES))
    # Drop users / items with fewer interactions, repeated until both hold (0 = off).
    min_user_count: int = ranged(0, at_least(0))
    min_item_count: int = ranged(0, at_least(0))
    # Keep only rows rated at least this (turning ratings into implicit positives); null = all.
    min_rating: Optional[float] = None
    # Where prepared arrays are cached; null = <tracking root>/.rsx_cache. "" disables caching.
    cache_dir: Optional[str] = None


@dataclasses.dataclass
class DatasetConfig(SplitConfig):
    """What every dataset plugin's config has besides the split keys (`rsx.api.DatasetConfig`).

    A plugin's config extends it and sets `dataset` and `name` to the plugin's name.
    """

    # The dataset plugin (an `rsx.datasets` entry point) that prepares this data.
    dataset: str = ""
    # The data's name in tags, run names and the prepared-data cache (a preset may rename it).
    name: str = ""
    # "dense": raw ids (any type) become table rows 1..n (vocabulary_from says whose), 0 = out
    # of vocabulary. "raw": integer ids >= 1 are the rows themselves (tables of largest id + 1
    # rows; the tutorial presets, so their tables stay exactly as published).
    vocabulary: str = ranged("dense", one_of(*VOCABULARIES))
    # Dense vocabulary from the ids of "all" interactions (kept after cleaning, before the
    # split: ids only, no label; an item first seen in test gets its own row and side features)
    # or of the "train" rows only (others share row 0). Cold counts are against train either way.
    vocabulary_from: str = ranged("all", one_of(*VOCABULARY_FROM))
    # Add the user feature `history` (kind sequence): each user's latest N training items,
    # oldest first, 0-padded (rsx/data/history.py); 0 = off.
    history_length: int = ranged(0, at_least(0))
    # "rating": explicit ratings, label = rating scaled to [0, 1]. "implicit": every kept row
    # is a positive, label 1 (or the mapped label column).
    target: str = ranged("rating", one_of(*TARGETS))


@dataclasses.dataclass
class TrainerConfig:
    """How `model.fit` is driven; the same keys on every backend."""

    # Number of passes over the training split.
    epochs: int = ranged(5, at_least(1))
    # Examples per replica per step; the global batch is this times the backend's replicas.
    batch_size: int = ranged(256, at_least(1))
    # The global batch (all replicas together), replacing batch_size when set; it must divide
    # evenly over the backend's replicas. Pins a published setup on any number of devices.
    global_batch_size: Optional[int] = ranged(None, or_null(at_least(1)))
    # Seeds Python, NumPy and the Keras backend: the same seed gives the same run.
    seed: int = ranged(42, Range(lambda v: 0 <= v < 2**32, "in 0..4294967295"))
    # Evaluate on the validation split every N epochs (the final evaluation always runs).
    validation_freq: int = ranged(1, at_least(1))
    # Stop after this many validations without improving the validation main metric
    # (`val_` + the model's main metric, e.g. val_rmse) and keep the best epoch's weights;
    # null = train all epochs. Counted in validations, so validation_freq=5 x 2 = 10 epochs.
    early_stopping_patience: Optional[int] = ranged(None, or_null(at_least(1)))
    # Reshuffle the training split every epoch; false keeps the tutorials' fixed batch order.
    shuffle: bool = True
    # Keras verbosity: 0 silent, 1 progress bar, 2 one line per epoch.
    verbose: int = ranged(1, one_of(0, 1, 2))
    # Batches run per compiled call (Keras steps_per_execution); >1 cuts per-step overhead.
    steps_per_execution: int = ranged(1, at_least(1))
    # Keras dtype policy of every layer: null = float32; "mixed_bfloat16" (TPU, recent GPUs) or
    # "mixed_float16" (GPUs, with loss scaling) compute in 16 bits and keep variables, losses
    # and metrics in float32. Recorded as tag `dtype_policy`.
    dtype_policy: Optional[str] = ranged(None, or_null(one_of(*DTYPE_POLICIES)))
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
    experiment: str = ranged("rsx", Range(lambda v: bool(str(v).strip()), "a non-empty name"))
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
    store.store(group="trainer", name="_schema", node=TrainerConfig)
    store.store(group="tracking", name="_schema", node=TrackingConfig)
