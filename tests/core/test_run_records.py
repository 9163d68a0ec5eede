"""`python -m rsx data=synthetic ...` leaves one complete, FINISHED MLflow run."""

import pytest

from rsx.testing.cli import explain, metric_history, run_rsx, runs, tracking_uri


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    result = run_rsx(
        ["data=synthetic", "data.num_interactions=6000", "data.num_users=150", "data.num_items=80",
         "trainer.epochs=2", "trainer.batch_size=128", f"tracking.uri={tracking_uri(workdir)}"],
        workdir,
    )
    assert result.returncode == 0, explain(result)
    (run,) = runs(workdir)
    return workdir, run


def test_run_is_finished_with_tags(finished):
    _, run = finished
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert (tags["backend"], tags["model"], tags["dataset"]) == ("cpu_reference", "ranking", "synthetic")
    assert tags["keras_backend"] == "tensorflow"
    assert tags["device_kind"] == "cpu" and tags["device_count"] == "1"
    assert tags["rsx_version"] == "0.1.0"
    assert len(tags["rsx.job_key"]) == 16
    assert tags["mlflow.runName"] == "ranking-cpu_reference-synthetic"


def test_params_are_the_flattened_resolved_config(finished):
    _, run = finished
    params = run.data.params
    assert params["trainer.epochs"] == "2"
    assert params["model.hidden_units.0"] == "256" and params["model.hidden_units.1"] == "64"
    assert params["model.table_optimizer.name"] == "adam"
    assert params["tracking.uri"].startswith("sqlite:////")  # resolved, absolute


def test_every_epoch_is_logged_once_with_timing(finished):
    workdir, run = finished
    for key in ("loss", "rmse", "val_loss", "val_rmse", "epoch_seconds", "examples_per_second"):
        steps = [m.step for m in metric_history(workdir, run.info.run_id, key)]
        assert steps == [1, 2], (key, steps)
    for key in ("test_loss", "test_rmse", "baseline_test_rmse"):
        assert key in run.data.metrics
    assert run.data.metrics["test_rmse"] ** 2 == pytest.approx(run.data.metrics["test_loss"], rel=1e-3)


def test_artifacts_hold_config_overrides_and_summary(finished):
    workdir, run = finished
    import mlflow

    client = mlflow.MlflowClient(tracking_uri(workdir))
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "overrides.txt", "model_summary.txt"} <= names
    overrides = client.download_artifacts(run.info.run_id, "overrides.txt", str(workdir))
    assert "trainer.epochs=2" in open(overrides).read()


def test_disabled_tracking_records_nothing(tmp_path):
    result = run_rsx(["data=synthetic", "data.num_interactions=3000", "trainer.epochs=1",
                      "trainer.verbose=0", "tracking.enabled=false"], tmp_path)
    assert result.returncode == 0, explain(result)
    assert not (tmp_path / "mlflow.db").exists()
