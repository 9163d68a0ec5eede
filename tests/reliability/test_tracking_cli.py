"""Tracking problems a user meets at the command line end in one line before anything starts:
a deleted experiment, a tag key MLflow refuses. Single runs and sweeps alike: no worker, no
job, no run is created."""

from __future__ import annotations

import mlflow
import pytest

from rsx.testing.cli import SMALL_RUN, explain, run_rsx, tracking_uri

MODES = {
    "single": ["model=ranking"],
    "sweep": ["-m", "model=ranking", "trainer.seed=1,2"],
}


def _one_error_line(result) -> str:
    assert result.returncode == 2, explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    lines = [l for l in result.stderr.splitlines() if l.startswith("rsx: error:")]
    assert len(lines) == 1, explain(result)
    return lines[0]


def _nothing_started(workdir) -> None:
    assert list(workdir.rglob("rsx_job.yaml")) == [], "a worker was started"
    assert list(workdir.rglob("rsx_result.json")) == [], "a job ran"
    assert not (workdir / ".rsx_cache").exists(), "data was prepared"


@pytest.mark.parametrize("mode", MODES)
def test_a_deleted_experiment_stops_before_anything_starts(tmp_path, mode):
    client = mlflow.MlflowClient(tracking_uri(tmp_path))
    client.delete_experiment(client.create_experiment("rsx"))
    result = run_rsx([*MODES[mode], *SMALL_RUN], tmp_path, timeout=120)
    line = _one_error_line(result)
    assert "MLflow experiment 'rsx' is deleted" in line and "restore it" in line and "tracking.experiment" in line
    _nothing_started(tmp_path)
    deleted = client.get_experiment_by_name("rsx")
    assert client.search_runs([deleted.experiment_id], run_view_type=3) == [], "no run was recorded"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key", ["cost$center", "a;b"])
def test_a_tag_key_mlflow_refuses_is_named_before_any_run(tmp_path, mode, key):
    result = run_rsx([*MODES[mode], *SMALL_RUN, f"+tracking.tags.{key}=x"], tmp_path, timeout=120)
    line = _one_error_line(result)
    assert f"tracking.tags.{key}" in line, line
    _nothing_started(tmp_path)
    if (tmp_path / "mlflow.db").exists():
        client = mlflow.MlflowClient(tracking_uri(tmp_path))
        assert all(client.search_runs([e.experiment_id]) == [] for e in client.search_experiments())
