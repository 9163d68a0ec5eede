"""The Hydra Sweeper class; Optuna itself is imported only when a sweep starts (`_impl`)."""

from __future__ import annotations

from typing import Any, List, Optional

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from .config import RsxOptunaSweeperConf  # noqa: F401  (stores the config in the ConfigStore)


class RsxOptunaSweeper(Sweeper):
    """Searches a config space with Optuna, one Hydra job per trial.

    Each job's return value (the validation twin of the model's main metric, e.g. val_rmse) is
    the trial's objective; a job that fails or returns no value is told to Optuna as a failed
    trial, and the search goes on.

    Args:
        direction: "minimize", "maximize" or "auto" (from the model's `greater_is_better`).
        n_trials: trials to run.
        n_jobs: trials launched together per batch.
        sampler: "tpe" or "random".
        seed: sampler seed.
        storage: Optuna storage URL; None keeps the study in memory.
        study_name: the study's name in `storage`.
        params: config key -> Hydra sweep expression (choice, range, interval, tag(log, ...)).
    """

    def __init__(
        self,
        direction: str,
        n_trials: int,
        n_jobs: int,
        sampler: str,
        seed: Optional[int],
        storage: Optional[str],
        study_name: Optional[str],
        params: Optional[DictConfig],
    ):
        from ._impl import OptunaSearch

        self.search = OptunaSearch(direction, n_trials, n_jobs, sampler, seed, storage, study_name, params)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: List[str]) -> Any:
        return self.search.run(self, arguments)
