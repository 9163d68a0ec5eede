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


#: A launch directory with every character that breaks a naively quoted MLflow filter string.
ODD_FOLDER = "o'brien \"q\" back\\slash 50%"

_DIE_AFTER_RUN_START = """
import os, signal
import rsx.tracking

_start = rsx.tracking.MlflowTracker.start

def start(self, *args, **kwargs):
    run_id = _start(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # Dies like an out-of-memory kill: no word, no cleanup.

rsx.tracking.MlflowTracker.start = start
"""


def _result(workdir):
    import json

    (path,) = workdir.rglob("rsx_result.json")
    return json.loads(path.read_text())


@pytest.mark.slow
def test_a_run_launched_from_a_folder_with_quotes_is_found_again(tmp_path):
    from rsx.testing.cli import runs

    workdir = tmp_path / ODD_FOLDER
    workdir.mkdir()
    result = run_rsx(["model=ranking", *SMALL_RUN, "trainer.epochs=1", "+tracking.tags.note=\"it's 50% \\o/\""], workdir)
    assert result.returncode == 0, explain(result)
    (run,) = runs(workdir)
    assert run.info.status == "FINISHED" and ODD_FOLDER in run.data.tags["output_dir"]
    assert run.data.tags["note"] == "it's 50% \\o/"
    assert _result(workdir)["run_id"] == run.info.run_id
    assert result.stdout.strip().splitlines()[-1].startswith(f"rsx: MLflow run {run.info.run_id} FINISHED")


def test_a_dead_workers_run_in_a_folder_with_quotes_ends_killed(tmp_path, monkeypatch):
    from rsx.testing.cli import runs

    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_DIE_AFTER_RUN_START)
    monkeypatch.setenv("PYTHONPATH", str(hooks))  # run_rsx passes our environment on.
    workdir = tmp_path / ODD_FOLDER
    workdir.mkdir()
    result = run_rsx(["model=ranking", *SMALL_RUN], workdir, timeout=180)
    assert result.returncode == 128 + 9, explain(result)
    (run,) = runs(workdir)
    assert run.info.status == "KILLED", "the launcher found the dead worker's run and ended it"
    assert _result(workdir)["run_id"] == run.info.run_id
