"""Launcher and search presets compose; the Optuna search space is read as Hydra users write it."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from hydra.core.utils import JobReturn, JobStatus

import rsx
from rsx.errors import ConfigError
from rsx.testing.cli import explain
from rsx.testing.compose import compose_config, registered

from hydra_plugins.rsx_optuna_sweeper._impl import (
    _objective,
    check_searched_keys,
    dimension,
    resolve_direction,
    search_space,
)

CONF = Path(rsx.__file__).resolve().parent.parent / "conf"


@pytest.fixture(scope="module")
def registry():
    return registered()


def _compose(overrides):
    return compose_config(overrides, return_hydra_config=True)


def test_submitit_slurm_composes_on_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rsx", "hydra/launcher=submitit_slurm", "--cfg", "hydra"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, explain(result)
    launcher = yaml.safe_load(result.stdout)["hydra"]["launcher"]
    assert launcher["_target_"] == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"


def test_rsx_slurm_preset_extends_submitit(registry):
    launcher = _compose(["hydra/launcher=slurm", "hydra.launcher.partition=gpu"]).hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.tasks_per_node, launcher.timeout_min, launcher.partition) == (1, 120, "gpu")


def test_joblib_launcher_composes(registry):
    launcher = _compose(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]).hydra.launcher
    assert launcher._target_.endswith("JoblibLauncher") and launcher.n_jobs == 2


def test_sweep_callback_is_registered(registry):
    callbacks = _compose([]).hydra.callbacks
    assert callbacks.rsx_sweep._target_ == "rsx.sweep.SweepCallback"


@pytest.mark.parametrize(
    "preset, model", [("ranking_optuna", "ranking"), ("two_tower_optuna", "two_tower"), ("dcn_optuna", "dcn")]
)
def test_search_presets_compose_as_multiruns_of_their_model(registry, preset, model):
    if model not in registry.names("model"):
        pytest.skip(f"model {model} not installed")
    cfg = _compose([f"hparams_search={preset}"])
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    assert cfg.hydra.sweeper._target_.endswith("RsxOptunaSweeper")
    assert cfg.model.name == model
    dimensions, fixed = search_space(dict(cfg.hydra.sweeper.params), [])
    assert fixed == []
    keys = {d.key for d in dimensions}
    assert "model.optimizer.learning_rate" in keys and "model.embedding_dim" in keys
    # The preset's direction agrees with the model's own.
    assert cfg.hydra.sweeper.direction == resolve_direction("auto", cfg)
    check_searched_keys(cfg, dimensions)  # every searched key is one of its model's


def test_a_search_preset_for_another_model_is_one_line_naming_the_key(registry):
    if "dcn" not in registry.names("model"):
        pytest.skip("model dcn not installed")
    cfg = _compose(["hparams_search=ranking_optuna", "model=dcn"])
    dimensions, _ = search_space(dict(cfg.hydra.sweeper.params), [])
    with pytest.raises(ConfigError, match=r"searches model.table_optimizer.learning_rate, which model=dcn does not "
                                          r"have \(model.table_optimizer is null\) -> use a search preset"):
        check_searched_keys(cfg, dimensions)


def test_two_tower_search_keeps_the_towers_matched(registry):
    if "two_tower" not in registry.names("model"):
        pytest.skip("model two_tower not installed")
    cfg = _compose(["hparams_search=two_tower_optuna", "model.user_layers=[128,64]"])
    assert list(cfg.model.candidate_layers) == [128, 64]


def _dimension(text: str):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (override,) = OverridesParser.create().parse_overrides([text])
    return dimension(override)


def test_search_expressions_map_to_optuna_distributions():
    lr = _dimension("lr=tag(log, interval(0.001, 0.3))").distribution
    assert isinstance(lr, optuna.distributions.FloatDistribution) and lr.log and (lr.low, lr.high) == (0.001, 0.3)
    units = _dimension("units=tag(int, interval(8, 64))").distribution
    assert isinstance(units, optuna.distributions.IntDistribution) and (units.low, units.high) == (8, 64)
    assert isinstance(_dimension("x=interval(8, 64)").distribution, optuna.distributions.FloatDistribution)
    batch = _dimension("batch=range(64, 513, 64)").distribution
    assert isinstance(batch, optuna.distributions.IntDistribution)
    assert (batch.low, batch.high, batch.step) == (64, 512, 64)
    dim = _dimension("dim=choice(16, 32, 64)").distribution
    assert dim.choices == (16, 32, 64)
    widths = _dimension("widths=choice([64,32], [128,64])")
    assert widths.distribution.choices == ("[64,32]", "[128,64]")
    assert widths.override("[128,64]") == "widths=[128,64]"
    assert _dimension("seed=1,2,3").distribution.choices == (1, 2, 3)


def test_command_line_overrides_win_over_the_preset_space():
    dimensions, fixed = search_space(
        {"a": "interval(0.0, 1.0)", "b": "choice(1, 2)"}, ["a=0.5", "c=choice(x, y)", "data=synthetic"]
    )
    assert [d.key for d in dimensions] == ["b", "c"]
    assert fixed == ["a=0.5", "data=synthetic"]
    with pytest.raises(ValueError, match="nothing to search"):
        search_space({}, ["a=1"])


def test_failed_or_valueless_jobs_are_failed_trials():
    def job(status, value):
        ret = JobReturn()
        ret.status = status
        ret._return_value = value
        return ret

    assert _objective(job(JobStatus.COMPLETED, 0.25)) == 0.25
    assert _objective(job(JobStatus.COMPLETED, None)) is None
    assert _objective(job(JobStatus.COMPLETED, math.nan)) is None
    assert _objective(job(JobStatus.FAILED, RuntimeError("boom"))) is None


def test_default_study_names_differ_per_model_space_and_direction():
    from hydra_plugins.rsx_optuna_sweeper._impl import default_study_name

    space, _ = search_space({"model.embedding_dim": "choice(16, 32)"}, [])
    wider, _ = search_space({"model.embedding_dim": "choice(16, 32, 64)"}, [])
    names = {
        default_study_name("ranking", "minimize", space, ["data=synthetic"]),
        default_study_name("two_tower", "maximize", space, ["data=synthetic"]),
        default_study_name("ranking", "minimize", wider, ["data=synthetic"]),
        default_study_name("ranking", "minimize", space, ["data=movielens_100k"]),
    }
    assert len(names) == 4
    assert default_study_name("ranking", "minimize", space, ["data=synthetic"]) in names  # a rerun continues


def test_a_kept_study_of_another_direction_or_space_is_refused_in_one_line(tmp_path):
    from hydra_plugins.rsx_optuna_sweeper._impl import check_existing_study

    from rsx.errors import ConfigError

    storage = f"sqlite:///{tmp_path}/optuna.db"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="shared", storage=storage, direction="minimize")
    study.optimize(lambda t: t.suggest_categorical("model.embedding_dim", [16, 32]), n_trials=2)
    space, _ = search_space({"model.embedding_dim": "choice(16, 32)"}, [])
    check_existing_study(storage, "shared", "minimize", space, explicit=True)  # the same search: continues
    check_existing_study(storage, "new", "maximize", space, explicit=True)  # no such study yet
    with pytest.raises(ConfigError) as error:
        check_existing_study(storage, "shared", "maximize", space, explicit=True)
    assert "Optuna study 'shared'" in str(error.value) and "hydra.sweeper.study_name" in str(error.value)
    other, _ = search_space({"model.embedding_dim": "choice(8, 64)"}, [])
    with pytest.raises(ConfigError, match="searched model.embedding_dim") as error:
        check_existing_study(storage, "shared", "minimize", other, explicit=True)
    assert "hydra.sweeper.study_name" in str(error.value)


@pytest.mark.parametrize("config_value, arguments", [("test", []), ("train", ["data.validation_from=test"])])
def test_a_search_refuses_to_tune_on_the_test_split(tmp_path, config_value, arguments):
    from types import SimpleNamespace

    from omegaconf import OmegaConf

    from hydra_plugins.rsx_optuna_sweeper._impl import OptunaSearch

    config = OmegaConf.create({"data": {"validation_from": config_value}, "hydra": {"sweep": {"dir": str(tmp_path)}}})
    search = OptunaSearch("minimize", 1, 1, "random", 0, None, None, {"a": "choice(1, 2)"})
    with pytest.raises(ValueError, match="data.validation_from=test would make the search tune on the test split"):
        search.run(SimpleNamespace(config=config), arguments)
