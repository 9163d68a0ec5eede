"""No secret reaches MLflow, and a resumed run never records a metric step twice."""

import json

import mlflow
import pytest

from rsx.testing.cli import explain, run_rsx, runs, tracking_uri
from rsx.tracking import MlflowTracker, params_from_config, redact

TOKEN = "tok-5up3r-s3cret-0042"
PASSWORD = "hunter2-pa55word"


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)


def test_redact_removes_uri_credentials_and_secret_env_values(secret_env):
    text = f"https://bob:{PASSWORD}@host/x and token {TOKEN} and a harmless value 42"
    clean = redact(text)
    assert PASSWORD not in clean and TOKEN not in clean
    assert "https://***@host/x" in clean and "harmless value 42" in clean


def test_tracker_scrubs_params_tags_names_and_text(tmp_path, secret_env):
    tracker = MlflowTracker(f"sqlite:///{tmp_path}/mlflow.db", "rsx")
    tracker.start(f"run-{TOKEN}", tags={"note": f"uses {TOKEN}"})
    tracker.log_params(params_from_config({"tracking": {"run_name": TOKEN, "uri": f"http://u:{PASSWORD}@h"}}))
    tracker.log_text(f"config with {PASSWORD}", "config.yaml")
    tracker.log_dict({"token": TOKEN}, "extra.json")
    tracker.finish()
    dump = _everything(tmp_path / "mlflow.db", tracker.run_id, tmp_path)
    assert TOKEN not in dump and PASSWORD not in dump


def test_resumed_run_logs_each_step_once(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    first = MlflowTracker(uri, "rsx")
    run_id = first.start("r", tags={})
    first.log_params({"a": "1"})
    first.log_metrics({"loss": 0.5}, step=1)
    first.log_metrics({"loss": 0.4, "rmse": 0.6}, step=2)  # ... then the job is killed

    again = MlflowTracker(uri, "rsx")
    assert again.start("r", tags={"x": "y"}, run_id=run_id) == run_id
    again.log_params({"a": "1", "b": "2"})  # re-logging the same params is harmless
    again.log_metrics({"loss": 0.41, "rmse": 0.61}, step=2)  # the repeated epoch
    again.log_metrics({"loss": 0.3, "rmse": 0.5}, step=3)
    again.finish()
    client = mlflow.MlflowClient(uri)
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(1, 0.5), (2, 0.4), (3, 0.3)]
    assert [m.step for m in client.get_metric_history(run_id, "rmse")] == [2, 3]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.params == {"a": "1", "b": "2"}


def _everything(db, run_id, workdir) -> str:
    """Params, tags, run name and every text artifact of a run, as one string."""
    client = mlflow.MlflowClient(f"sqlite:///{db}")
    run = client.get_run(run_id)
    parts = [json.dumps(run.data.params), json.dumps(run.data.tags), run.info.run_name or ""]
    stack = [None]
    while stack:
        for item in client.list_artifacts(run_id, stack.pop()):
            if item.is_dir:
                stack.append(item.path)
            elif not item.path.endswith((".keras", ".h5")):
                path = client.download_artifacts(run_id, item.path, str(workdir))
                parts.append(open(path, errors="replace").read())
    return "\n".join(parts)


def test_cli_run_keeps_secrets_out_of_mlflow(tmp_path):
    """Secrets from the environment (interpolated into the config) and a password inside a
    data URL stay out of params, tags, run name, config.yaml, overrides.txt and the failure."""
    env = {"MLFLOW_TRACKING_TOKEN": TOKEN}
    overrides = [
        "data=movielens_100k", "data.source=files", f"data.path=https://bob:{PASSWORD}@example.invalid/ml-100k.zip",
        "tracking.run_name=${oc.env:MLFLOW_TRACKING_TOKEN}", "trainer.verbose=0",
    ]
    result = run_rsx(overrides, tmp_path, env=env)
    assert result.returncode == 2, explain(result)  # the URL is no local path
    (run,) = runs(tmp_path)
    assert run.info.status == "FAILED"
    dump = _everything(tmp_path / "mlflow.db", run.info.run_id, tmp_path)
    assert "traceback.txt" in [a.path for a in mlflow.MlflowClient(tracking_uri(tmp_path)).list_artifacts(run.info.run_id)]
    assert TOKEN not in dump and PASSWORD not in dump
    assert "https://***@example.invalid" in dump
