"""`python -m rsx -m backend=cpu_reference,jax_dataparallel model=ranking,two_tower`, logged over
HTTP to a real MLflow server: one parent run, four children that each trained on the Keras
backend its backend plugin requires, an orchestrator that imported no framework, and the
comparison report built from it.

One sweep (module-scoped) serves every test here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types

import mlflow
import pytest

from rsx.discovery import discover
from rsx.evaluation import validation_metric
from rsx.testing.cli import explain

BACKENDS = ("cpu_reference", "jax_dataparallel")
MODELS = ("ranking", "two_tower")


def _missing_plugins() -> list[str]:
    registry = discover()
    return [n for n in BACKENDS if n not in registry.names("backend")] + [
        n for n in MODELS if n not in registry.names("model")
    ]


pytestmark = pytest.mark.skipif(bool(_missing_plugins()), reason=f"plugins not installed: {_missing_plugins()}")


def _required_keras_backend(backend: str) -> str:
    spec = discover().backend(backend)
    return spec.environment(spec.config())["KERAS_BACKEND"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, mlflow_server, run_sweep, one_epoch):
    workdir = tmp_path_factory.mktemp("backend_sweep")
    result = run_sweep(
        ["-m", f"backend={','.join(BACKENDS)}", f"model={','.join(MODELS)}", *one_epoch,
         f"tracking.uri={mlflow_server}"],
        workdir,
    )
    assert result.returncode == 0, explain(result)
    client = mlflow.MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("rsx")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("rsx.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("rsx.role") != "sweep"]
    return types.SimpleNamespace(
        workdir=workdir, result=result, client=client, uri=mlflow_server,
        parents=parents, parent=parents[0] if parents else None, children=children,
    )


def test_one_parent_and_four_finished_children(sweep):
    assert len(sweep.parents) == 1
    assert sweep.parent.info.status == "FINISHED"
    assert len(sweep.children) == 4
    assert all(r.info.status == "FINISHED" for r in sweep.children)
    assert {r.data.tags["mlflow.parentRunId"] for r in sweep.children} == {sweep.parent.info.run_id}
    combos = {(r.data.tags["backend"], r.data.tags["model"]) for r in sweep.children}
    assert combos == {(b, m) for b in BACKENDS for m in MODELS}


def test_each_job_trained_on_the_keras_backend_its_backend_requires(sweep):
    required = {b: _required_keras_backend(b) for b in BACKENDS}
    assert set(required.values()) == {"tensorflow", "jax"}, "the sweep must cross Keras backends"
    for run in sweep.children:
        assert run.data.tags["keras_backend"] == required[run.data.tags["backend"]], run.data.tags


def test_the_orchestrating_process_imported_no_framework(sweep, orchestrator_frameworks):
    assert orchestrator_frameworks(sweep.workdir) == []


def test_children_are_named_and_tagged_after_their_overrides(sweep):
    sweep_dir = sweep.parent.data.tags["rsx.sweep_dir"]
    job_nums = sorted(int(r.data.tags["rsx.job_num"]) for r in sweep.children)
    assert job_nums == [0, 1, 2, 3]
    for run in sweep.children:
        tags = run.data.tags
        assert tags["rsx.sweep_dir"] == sweep_dir
        assert run.info.run_name == f"backend={tags['backend']} model={tags['model']}"
        assert f"backend={tags['backend']}" in tags["rsx.overrides"].split()
        assert "trainer.epochs=1" in tags["rsx.overrides"].split()


def test_children_metrics_are_readable_over_http(sweep):
    for run in sweep.children:
        main_metric = discover().model(run.data.tags["model"]).main_metric
        assert main_metric in run.data.metrics
        history = sweep.client.get_metric_history(run.info.run_id, "examples_per_second")
        assert [m.step for m in history] == [1] and history[0].value > 0


def test_parent_holds_the_best_job_of_each_model(sweep):
    tags = sweep.parent.data.tags
    assert tags["rsx.jobs"] == "4" and tags["rsx.jobs_failed"] == "0"
    for model in MODELS:
        # Chosen on validation (val_rmse, val_recall_at_10); the test metric is shown beside it.
        spec = discover().model(model)
        ranked_by = validation_metric(spec.main_metric)
        children = [r for r in sweep.children if r.data.tags["model"] == model]
        pick = max if spec.greater_is_better else min
        best = pick(children, key=lambda r: r.data.metrics[ranked_by])
        assert float(tags[f"rsx.best.{model}.{ranked_by}"]) == pytest.approx(best.data.metrics[ranked_by])
        assert float(tags[f"rsx.best.{model}.{spec.main_metric}"]) == pytest.approx(best.data.metrics[spec.main_metric])
    artifacts = {a.path for a in sweep.client.list_artifacts(sweep.parent.info.run_id)}
    assert {"sweep_summary.txt", "sweep_summary.json"} <= artifacts


def test_summary_lists_every_job(sweep):
    out = sweep.result.stdout
    assert "rsx sweep: 4 jobs: 4 finished, 0 failed, 0 skipped" in out
    for backend in BACKENDS:
        for model in MODELS:
            assert any(f"backend={backend} model={model}" in line and "FINISHED" in line for line in out.splitlines())


def test_comparison_report(sweep, tmp_path):
    parent = sweep.parent.info.run_id
    result = subprocess.run(
        [sys.executable, "-m", "rsx.compare", "--run", parent, "--tracking-uri", sweep.uri, "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, explain(result)
    table = result.stdout.splitlines()
    for run in sweep.children:
        line = next(l for l in table if l.startswith(run.info.run_name))
        assert run.data.tags["backend"] in line and run.data.tags["keras_backend"] in line

    assert (tmp_path / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert {r["run_id"] for r in data["runs"]} == {r.info.run_id for r in sweep.children}
    assert all(r["examples_per_second"] > 0 and r["value"] is not None for r in data["runs"])
    page = (tmp_path / "comparison.html").read_text()
    assert "data:image/png;base64," in page
    for run in sweep.children:
        assert run.info.run_name in page and run.info.run_id in page

    logged = {a.path for a in sweep.client.list_artifacts(parent, "comparison")}
    assert logged == {"comparison/comparison.png", "comparison/comparison.html", "comparison/comparison.json"}
