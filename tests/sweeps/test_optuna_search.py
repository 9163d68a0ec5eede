"""`python -m rsx hparams_search=ranking_optuna hydra.sweeper.n_trials=3` on synthetic data:
three trials, each a child run with its sampled values, and a parent holding the best one."""

from __future__ import annotations

import math
import types

import pytest
import yaml

from rsx.testing.cli import explain, runs

SEARCHED = ("model.optimizer.learning_rate", "model.table_optimizer.learning_rate", "model.embedding_dim", "model.hidden_units")


@pytest.fixture(scope="module")
def search(tmp_path_factory, run_sweep, one_epoch):
    workdir = tmp_path_factory.mktemp("optuna")
    result = run_sweep(["hparams_search=ranking_optuna", "hydra.sweeper.n_trials=3", *one_epoch], workdir)
    assert result.returncode == 0, explain(result)
    all_runs = runs(workdir)
    (parent,) = [r for r in all_runs if r.data.tags.get("rsx.role") == "sweep"]
    trials = [r for r in all_runs if r.data.tags.get("rsx.role") != "sweep"]
    (results_file,) = workdir.glob("multirun/*/*/optimization_results.yaml")
    return types.SimpleNamespace(result=result, parent=parent, trials=trials,
                                 optuna=yaml.safe_load(results_file.read_text()))


def _hidden_units(run) -> list[int]:
    params = run.data.params
    return [int(params[f"model.hidden_units.{i}"]) for i in range(len([k for k in params if k.startswith("model.hidden_units.")]))]


def test_three_trials_ran_as_children_within_the_search_space(search):
    assert len(search.trials) == 3
    assert all(r.info.status == "FINISHED" for r in search.trials)
    assert {r.data.tags["mlflow.parentRunId"] for r in search.trials} == {search.parent.info.run_id}
    for run in search.trials:
        params = run.data.params
        assert 0.001 <= float(params["model.optimizer.learning_rate"]) <= 0.3
        assert 0.0001 <= float(params["model.table_optimizer.learning_rate"]) <= 0.03
        assert int(params["model.embedding_dim"]) in (16, 32, 64)
        assert _hidden_units(run) in ([64, 32], [128, 64], [256, 64])
    sampled = {r.data.params["model.optimizer.learning_rate"] for r in search.trials}
    assert len(sampled) == 3, "each trial gets its own values"


def test_parent_holds_the_best_trial(search):
    # Chosen on validation; the test RMSE is reported beside it, never chosen by.
    best = min(search.trials, key=lambda r: r.data.metrics["val_rmse"])
    parent = search.parent
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best_val_rmse"] == pytest.approx(best.data.metrics["val_rmse"])
    assert parent.data.metrics["best_test_rmse"] == pytest.approx(best.data.metrics["test_rmse"])
    assert all(r.data.tags["rsx.validation"] == "validation" for r in search.trials)
    assert parent.data.tags["rsx.best.ranking.run_id"] == best.info.run_id
    assert float(parent.data.params["best.model.optimizer.learning_rate"]) == pytest.approx(
        float(best.data.params["model.optimizer.learning_rate"]))
    assert int(parent.data.params["best.model.embedding_dim"]) == int(best.data.params["model.embedding_dim"])
    assert yaml.safe_load(parent.data.params["best.model.hidden_units"]) == _hidden_units(best)


def test_optuna_minimized_the_value_each_job_returned(search):
    values = sorted(r.data.metrics["val_rmse"] for r in search.trials)  # validation, not test
    assert search.optuna["direction"] == "minimize"
    assert search.optuna["trials"] == {"complete": 3, "failed": 0}
    assert math.isclose(search.optuna["best_value"], values[0], rel_tol=1e-9)
    assert set(search.optuna["best_params"]) == set(SEARCHED)
