"""Optuna searches rank trials by the metric each trial's own config names, keep their
studies apart in a shared storage, and fail when their objective never appears.

- two_tower with model.top_k=5 logs val/test_recall_at_5, and the search maximizes the validation one;
- a ranking search afterwards, in a sweep folder of the same name and the same Optuna
  storage, gets its own study (it minimizes test_rmse, not two_tower's recall);
- naming the two_tower study for the ranking search is refused in one line, before any run;
- a search whose objective is never logged (no test rating passes the relevance threshold, so
  recall is NaN) ends FAILED in one line instead of "completing" with no trial.
"""

from __future__ import annotations

import types

import optuna
import pytest
import yaml

from rsx.testing.cli import explain, runs

pytestmark = pytest.mark.slow


def _results(workdir, folder):
    (path,) = (workdir / folder).glob("**/optimization_results.yaml")
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def searches(tmp_path_factory, run_sweep, one_epoch):
    workdir = tmp_path_factory.mktemp("objective")
    storage = f"sqlite:///{workdir}/optuna.db"
    common = ["hydra.sweeper.n_trials=1", f"hydra.sweeper.storage={storage}", *one_epoch]
    two_tower = run_sweep(["hparams_search=two_tower_optuna", "model.top_k=5", "hydra.sweep.dir=a/search", *common], workdir)
    after_two_tower = runs(workdir)
    ranking = run_sweep(["hparams_search=ranking_optuna", "hydra.sweep.dir=b/search", *common], workdir)
    return types.SimpleNamespace(workdir=workdir, storage=storage, common=common, two_tower=two_tower,
                                 after_two_tower=after_two_tower, ranking=ranking, after_ranking=runs(workdir))


def _trial(all_runs, model):
    (trial,) = [r for r in all_runs if r.data.tags.get("model") == model and r.data.tags.get("rsx.role") != "sweep"]
    return trial


def test_the_objective_follows_the_models_top_k(searches):
    assert searches.two_tower.returncode == 0, explain(searches.two_tower)
    trial = _trial(searches.after_two_tower, "two_tower")
    assert trial.data.tags["rsx.main_metric"] == "test_recall_at_5"
    result = _results(searches.workdir, "a")
    assert result["direction"] == "maximize" and result["trials"] == {"complete": 1, "failed": 0}
    # The search is ranked by the validation twin; the test value stands beside it.
    assert result["best_value"] == pytest.approx(trial.data.metrics["val_recall_at_5"])
    (parent,) = [r for r in searches.after_two_tower if r.data.tags.get("rsx.role") == "sweep"]
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best_val_recall_at_5"] == pytest.approx(trial.data.metrics["val_recall_at_5"])
    assert parent.data.metrics["best_test_recall_at_5"] == pytest.approx(trial.data.metrics["test_recall_at_5"])


def test_a_second_search_in_a_same_named_folder_gets_its_own_study(searches):
    assert searches.ranking.returncode == 0, explain(searches.ranking)
    result = _results(searches.workdir, "b")
    assert result["direction"] == "minimize"
    assert result["best_value"] == pytest.approx(_trial(searches.after_ranking, "ranking").data.metrics["val_rmse"])
    assert result["study"] != _results(searches.workdir, "a")["study"]
    assert set(optuna.get_all_study_names(searches.storage)) == {result["study"], _results(searches.workdir, "a")["study"]}


def test_continuing_another_models_study_is_refused_in_one_line(searches, run_sweep):
    study = _results(searches.workdir, "a")["study"]
    result = run_sweep(["hparams_search=ranking_optuna", f"hydra.sweeper.study_name={study}",
                        "hydra.sweep.dir=c/search", *searches.common], searches.workdir)
    assert result.returncode == 2, explain(result)
    lines = [l for l in result.stderr.splitlines() if l.startswith("rsx: error:")]
    assert len(lines) == 1 and f"Optuna study '{study}'" in lines[0] and "hydra.sweeper.study_name" in lines[0], explain(result)
    assert "Traceback" not in result.stderr
    # Checked before the sweep starts: no parent run, no trial, no sweep folder.
    assert len(runs(searches.workdir)) == len(searches.after_ranking), "no run at all"
    assert not (searches.workdir / "c").exists()


def test_a_search_whose_objective_never_appears_fails(tmp_path, run_sweep, one_epoch):
    result = run_sweep(["hparams_search=two_tower_optuna", "hydra.sweeper.n_trials=1", "model.relevant_rating=6",
                        *one_epoch], tmp_path)
    assert result.returncode == 1, explain(result)
    lines = [l for l in result.stderr.splitlines() if l.startswith("rsx: error:")]
    assert len(lines) == 1 and "val_recall_at_10" in lines[0] and "main metric" in lines[0], explain(result)
    (parent,) = [r for r in runs(tmp_path) if r.data.tags.get("rsx.role") == "sweep"]
    assert parent.info.status == "FAILED"
