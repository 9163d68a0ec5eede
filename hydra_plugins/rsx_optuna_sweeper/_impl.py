"""Optuna search over Hydra overrides: search space from sweep expressions, ask/launch/tell."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep
from hydra.core.utils import JobStatus
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("rsx")

RESULTS_FILE = "optimization_results.yaml"

_PRIMITIVES = (int, float, str, bool, type(None))


class Dimension:
    """One searched key: its Optuna distribution and how a sampled value is written back.

    Categories that are not Optuna primitives (lists, e.g. layer widths) are searched as their
    override text ("[128,64]"), which Hydra parses back into the list.
    """

    def __init__(self, key: str, distribution: optuna.distributions.BaseDistribution):
        self.key = key
        self.distribution = distribution

    def suggest(self, trial: optuna.Trial) -> Any:
        d = self.distribution
        if isinstance(d, optuna.distributions.CategoricalDistribution):
            return trial.suggest_categorical(self.key, d.choices)
        if isinstance(d, optuna.distributions.IntDistribution):
            return trial.suggest_int(self.key, d.low, d.high, step=d.step, log=d.log)
        return trial.suggest_float(self.key, d.low, d.high, step=d.step, log=d.log)

    def override(self, value: Any) -> str:
        if isinstance(value, str):
            return f"{self.key}={value}"
        return f"{self.key}={Override._get_value_element_as_str(value)}"


def _category(value: Any) -> Any:
    if isinstance(value, _PRIMITIVES):
        return value
    return Override._get_value_element_as_str(value)


def dimension(override: Override) -> Dimension:
    """Maps a sweep override to an Optuna dimension: choice(...) and a,b,c -> categorical;
    range(start, stop, step) -> int (or float) with that step; interval(low, high) -> float,
    tag(int, interval(...)) -> int; tag(log, ...) -> sampled on a log scale."""
    key = override.get_key_element()
    value = override.value()
    if override.is_choice_sweep():
        choices = value.list if isinstance(value, ChoiceSweep) else list(override.sweep_iterator())
        return Dimension(key, optuna.distributions.CategoricalDistribution([_category(c) for c in choices]))
    if isinstance(value, RangeSweep):
        values = list(value.range())
        if not values:
            raise ValueError(f"{override.input_line}: empty range")
        log_scale = "log" in value.tags
        if all(isinstance(v, int) for v in values):
            step = 1 if log_scale else int(value.step)
            return Dimension(key, optuna.distributions.IntDistribution(values[0], values[-1], log=log_scale, step=step))
        return Dimension(key, optuna.distributions.FloatDistribution(values[0], values[-1], step=None if log_scale else value.step, log=log_scale))
    if isinstance(value, IntervalSweep):  # Hydra reads interval bounds as floats; tag(int, ...) for ints.
        log_scale = "log" in value.tags
        if "int" in value.tags:
            return Dimension(key, optuna.distributions.IntDistribution(int(value.start), int(value.end), log=log_scale))
        return Dimension(key, optuna.distributions.FloatDistribution(float(value.start), float(value.end), log=log_scale))
    raise ValueError(f"{override.input_line}: not a search expression (use choice, range or interval)")


def search_space(params: Optional[Mapping[str, str]], arguments: Sequence[str]) -> tuple[list[Dimension], list[str]]:
    """The dimensions (from `params` and sweep overrides on the command line) and fixed overrides."""
    parser = OverridesParser.create()
    from_params = parser.parse_overrides([f"{k}={v}" for k, v in (params or {}).items()])
    from_arguments = parser.parse_overrides(list(arguments))
    dimensions: dict[str, Dimension] = {}
    fixed: list[str] = []
    for override in [*from_params, *from_arguments]:  # The command line wins over the preset.
        key = override.get_key_element()
        if override.is_sweep_override():
            dimensions[key] = dimension(override)
        else:
            dimensions.pop(key, None)
            fixed.append(override.input_line)
    if not dimensions:
        raise ValueError("the Optuna sweeper has nothing to search: set hydra.sweeper.params")
    return list(dimensions.values()), fixed


def resolve_direction(direction: str, config: DictConfig) -> str:
    if direction in ("minimize", "maximize"):
        return direction
    if direction != "auto":
        raise ValueError(f"hydra.sweeper.direction={direction!r}: use minimize, maximize or auto")
    from rsx.discovery import discover

    spec = discover().model(config.model.name)
    return "maximize" if spec.greater_is_better else "minimize"


def _sampler(name: str, seed: Optional[int]) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"hydra.sweeper.sampler={name!r}: use tpe or random")


def _objective(job_return: Any) -> Optional[float]:
    """The trial's value, or None when the job failed or returned no finite number."""
    if job_return.status != JobStatus.COMPLETED:
        return None
    value = job_return.return_value
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def default_study_name(model: str, direction: str, dimensions: Sequence[Dimension], fixed: Sequence[str]) -> str:
    """"rsx-<model>-<digest>": one study per model, direction, search space and fixed overrides.

    A rerun of the same search in a kept `storage` continues its study; a search of another
    model or space (e.g. ranking, then two_tower, in folders of the same name) gets its own
    instead of mixing its trials into another's.
    """
    import hashlib
    import json

    what = {
        "model": model,
        "direction": direction,
        "space": sorted((d.key, repr(d.distribution)) for d in dimensions),
        "fixed": sorted(fixed),
    }
    return f"rsx-{model}-{hashlib.sha256(json.dumps(what).encode()).hexdigest()[:10]}"


def check_existing_study(storage: Optional[str], name: str, direction: str, dimensions: Sequence[Dimension], explicit: bool) -> None:
    """Raises `ConfigError` when `storage` holds a study `name` this search cannot continue:
    it optimizes the other direction, or searched a key over an incompatible distribution."""
    from rsx.errors import ConfigError

    if storage is None or name not in optuna.get_all_study_names(storage):
        return
    fix = "set hydra.sweeper.study_name=<a new name>" + ("" if explicit else " or use another hydra.sweeper.storage")
    study = optuna.load_study(study_name=name, storage=storage)
    if study.direction.name.lower() != direction:
        raise ConfigError(
            f"Optuna study '{name}' in {storage} was created to {study.direction.name.lower()}, this search would {direction}",
            fix,
        )
    wanted = {d.key: d.distribution for d in dimensions}
    for trial in study.get_trials(deepcopy=False):
        for key, distribution in trial.distributions.items():
            if key not in wanted:
                continue
            try:
                optuna.distributions.check_distribution_compatibility(distribution, wanted[key])
            except ValueError:
                raise ConfigError(
                    f"Optuna study '{name}' in {storage} searched {key} over {distribution}, this search over {wanted[key]}",
                    fix,
                ) from None


def check_searched_keys(config: DictConfig, dimensions: Sequence[Dimension]) -> None:
    """Raises `ConfigError` when a searched key is not in the composed config.

    A search preset is written for one model (e.g. `ranking_optuna` searches
    `model.hidden_units` and `model.table_optimizer.learning_rate`); run with another model
    (`model=dcn`), Hydra would fail on the first trial with "Unexpected type for root:
    NoneType" or "Key not in struct", naming neither the key nor the model.
    """
    from rsx.errors import ConfigError

    for d in dimensions:
        key = d.key.lstrip("+~")
        if d.key != key or OmegaConf.select(config, key, default=_MISSING) is not _MISSING:
            continue  # "+key" adds a key; "~key" deletes one.
        parent = key.rpartition(".")[0]
        why = f"{parent} is null" if parent and OmegaConf.select(config, parent) is None else "it has no such key"
        model = OmegaConf.select(config, "model.name")
        raise ConfigError(
            f"hydra.sweeper.params searches {key}, which model={model} does not have ({why})",
            f"use a search preset for model={model} (python -m rsx --help lists hparams_search presets) "
            "or set the model the preset was written for",
        )


_MISSING = object()


def check_search(config: DictConfig) -> None:
    """Checks the search `config.hydra.sweeper` describes before anything starts: see
    `OptunaSearch.plan`. Every error is a `ConfigError` (one line)."""
    from rsx.errors import ConfigError, RsxError

    sweeper = config.hydra.sweeper
    try:
        search = OptunaSearch(sweeper.direction, sweeper.n_trials, sweeper.n_jobs, sweeper.sampler, sweeper.seed,
                              sweeper.storage, sweeper.study_name, sweeper.params)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        search.plan(config, list(config.hydra.overrides.task))
    except RsxError:
        raise
    except ValueError as error:
        raise ConfigError(str(error)) from error


class OptunaSearch:
    """The search itself; see `RsxOptunaSweeper` for the arguments."""

    def __init__(self, direction, n_trials, n_jobs, sampler, seed, storage, study_name, params):
        if n_trials < 1 or n_jobs < 1:
            raise ValueError("hydra.sweeper.n_trials and hydra.sweeper.n_jobs must be at least 1")
        self.direction = direction
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.sampler = sampler
        self.seed = seed
        self.storage = storage
        self.study_name = study_name
        self.params = OmegaConf.to_container(params) if isinstance(params, DictConfig) else params

    def plan(self, config: DictConfig, arguments: Sequence[str]) -> tuple[list[Dimension], list[str], str, str]:
        """The search's dimensions, fixed overrides, direction and study name, checked.

        `rsx.sweep.validate_jobs` calls it (through `check_search`) before the sweep's parent
        run exists, so a search that cannot start (a study it cannot continue, validation on
        test) is one line and leaves no run behind; `run` calls it again (cheap, no trial).
        Raises `ConfigError` for a kept study it cannot continue, ValueError for a bad key.
        """
        dimensions, fixed = search_space(self.params, arguments)
        if OmegaConf.select(config, "data.validation_from") == "test" or "data.validation_from=test" in fixed:
            # The objective is val_<main metric>; with validation = test the search would tune on test.
            raise ValueError("data.validation_from=test would make the search tune on the test split: "
                             "drop experiment=seed_* or set data.validation_from=train")
        check_searched_keys(config, dimensions)
        direction = resolve_direction(self.direction, config)
        name = self.study_name or default_study_name(config.model.name, direction, dimensions, fixed)
        check_existing_study(self.storage, name, direction, dimensions, explicit=self.study_name is not None)
        return dimensions, fixed, direction, name

    def run(self, sweeper: Any, arguments: Sequence[str]) -> optuna.Study:
        config = sweeper.config
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        dimensions, fixed, direction, name = self.plan(config, arguments)
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(config, sweep_dir / "multirun.yaml")
        study = optuna.create_study(
            study_name=name,
            storage=self.storage,
            sampler=_sampler(self.sampler, self.seed),
            direction=direction,
            load_if_exists=True,
        )
        log.info("Optuna: %d trials (%d at a time), %s %s", self.n_trials, self.n_jobs, direction,
                 ", ".join(f"{d.key}~{d.distribution}" for d in dimensions))

        done = 0
        while done < self.n_trials:
            trials = [study.ask() for _ in range(min(self.n_jobs, self.n_trials - done))]
            batch = [
                tuple(fixed) + tuple(d.override(d.suggest(trial)) for d in dimensions) for trial in trials
            ]
            sweeper.validate_batch_is_legal(batch)
            returns = sweeper.launcher.launch(batch, initial_job_idx=done)
            for trial, job_return in zip(trials, returns):
                value = _objective(job_return)
                if value is None:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(trial, value)
            done += len(trials)

        self._save_results(study, sweep_dir, dimensions)
        return study

    def _save_results(self, study: optuna.Study, sweep_dir: Path, dimensions: Sequence[Dimension]) -> None:
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            log.warning("Optuna: no trial completed; no best trial")
            return
        best = study.best_trial
        results = {
            "name": "optuna",
            "study": study.study_name,
            "direction": study.direction.name.lower(),
            "best_trial": best.number,
            "best_value": best.value,
            "best_params": {d.key: best.params[d.key] for d in dimensions if d.key in best.params},
            "trials": {"complete": len(complete), "failed": len(study.trials) - len(complete)},
        }
        OmegaConf.save(OmegaConf.create(results), sweep_dir / RESULTS_FILE)
        log.info("Optuna: best trial %d, value %.6g, params %s", best.number, best.value, results["best_params"])
