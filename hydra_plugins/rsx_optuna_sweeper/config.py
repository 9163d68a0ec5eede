"""Config of rsx's Optuna sweeper (`hydra/sweeper=rsx_optuna`), stored in Hydra's ConfigStore."""

from __future__ import annotations

import dataclasses
from typing import Optional

from hydra.core.config_store import ConfigStore


@dataclasses.dataclass
class RsxOptunaSweeperConf:
    _target_: str = "hydra_plugins.rsx_optuna_sweeper.optuna_sweeper.RsxOptunaSweeper"
    # "minimize", "maximize", or "auto": the direction the model's main metric improves in
    # (`ModelSpec.greater_is_better` of `model`), which is what each job returns.
    direction: str = "auto"
    # Trials to run (in this invocation; a study kept in `storage` continues past earlier ones).
    n_trials: int = 20
    # Trials proposed and launched together; run in parallel by a parallel launcher (joblib).
    n_jobs: int = 1
    # Optuna sampler: "tpe" (Bayesian, random for its first 10 trials) or "random".
    sampler: str = "tpe"
    # Sampler seed: the same seed proposes the same trials.
    seed: Optional[int] = 42
    # Optuna storage URL (e.g. "sqlite:///optuna.db") to keep the study; null = in memory.
    storage: Optional[str] = None
    # Study name in `storage`; null = "rsx-<model>-<digest of direction, search space and fixed
    # overrides>", so only a rerun of the same search continues a kept study. An existing study
    # of another direction or an incompatible space is refused in one line.
    study_name: Optional[str] = None
    # The search space: config key -> Hydra sweep expression, e.g.
    #   model.optimizer.learning_rate: tag(log, interval(1e-4, 0.3))   (float, log scale)
    #   model.embedding_dim: choice(16, 32, 64)                         (categorical)
    #   model.hidden_units: choice([64,32], [128,64])                   (lists as categories)
    #   trainer.batch_size: range(64, 513, 64)                          (int with a step)
    #   model.top_k: tag(int, interval(5, 50))                          (int)
    params: Optional[dict[str, str]] = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="rsx_optuna", node=RsxOptunaSweeperConf, provider="rsx"
)
