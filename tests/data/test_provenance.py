"""Provenance: runs log their data as MLflow dataset inputs, and the job key follows the data."""

import json
import os

import mlflow
import pytest

from rsx.job import job_key
from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs, tracking_uri
from rsx.testing.compose import compose_config
from rsx.testing.data import require_shared_data


def _inputs(workdir, run):
    client = mlflow.MlflowClient(tracking_uri=tracking_uri(workdir))
    found = client.get_run(run.info.run_id).inputs.dataset_inputs
    return {tag.value: d.dataset for d in found for tag in d.tags if tag.key == "mlflow.data.context"}


def test_the_job_key_changes_when_a_file_behind_the_same_config_changes(tmp_path):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("u,i,r\n" + "".join(f"{n % 9},{n % 7},{1 + n % 5}\n" for n in range(200)))
    overrides = ["data=interactions", f"data.path={ratings}", "data.columns.user=u", "data.columns.item=i",
                 "data.columns.rating=r", "tracking.uri=sqlite:///unused.db"]
    before = job_key(compose_config(overrides))
    assert job_key(compose_config(overrides)) == before
    status = os.stat(ratings)
    ratings.write_text(ratings.read_text().replace("\n1,1,", "\n1,1,", 1).replace(",5\n", ",4\n", 1))
    os.utime(ratings, ns=(status.st_atime_ns, status.st_mtime_ns))  # same size, same mtime
    assert os.stat(ratings).st_size == status.st_size
    assert job_key(compose_config(overrides)) != before


def test_missing_data_does_not_break_the_job_key():
    cfg = compose_config(["data=interactions", "data.path=/nonexistent/ratings.csv", "tracking.uri=sqlite:///x.db"])
    assert job_key(cfg) == job_key(cfg)


def test_a_run_logs_training_validation_and_test_inputs(tmp_path):
    result = run_rsx([*SMALL_RUN, "trainer.epochs=1"], tmp_path)
    assert result.returncode == 0, explain(result)
    (run,) = runs(tmp_path)
    inputs = _inputs(tmp_path, run)
    assert set(inputs) == {"training", "validation", "test"}
    rows = {context: json.loads(d.profile)["num_rows"] for context, d in inputs.items()}
    assert rows == {"training": 5_760, "validation": 640, "test": 1_600}
    assert len({d.digest for d in inputs.values()}) == 3
    assert {json.loads(d.profile)["data_digest"] for d in inputs.values()} == {run.data.tags["rsx.data_digest"]}
    schema = json.loads(inputs["training"].schema)["mlflow_colspec"]
    assert {c["name"] for c in schema} >= {"user_id", "item_id", "label", "rating"}
    sides = {f["name"]: f["kind"] for f in json.loads(inputs["training"].profile)["side_features"]}
    assert sides == {"segment": "categorical", "tags": "multi_hot", "quality": "numeric"}


@pytest.mark.slow
def test_movielens_latest_small_trains_with_an_honest_split(tmp_path):
    path = require_shared_data()
    result = run_rsx(["data=movielens", "data.variant=latest_small", "data.source=files", f"data.path={path}",
                      "trainer.epochs=2", "trainer.batch_size=1024", "trainer.verbose=0"], tmp_path, timeout=600)
    assert result.returncode == 0, explain(result)
    (run,) = runs(tmp_path)
    assert run.info.status == "FINISHED"
    assert run.data.tags["rsx.validation"] == "validation"
    for key in ("val_loss", "val_rmse", "test_loss", "test_rmse"):
        assert key in run.data.metrics
    history = mlflow.MlflowClient(tracking_uri=tracking_uri(tmp_path)).get_metric_history(run.info.run_id, "test_rmse")
    assert len(history) == 1  # the test split is evaluated once, at the end
    inputs = _inputs(tmp_path, run)
    assert json.loads(inputs["training"].source)["uri"] == str(path)
    profile = json.loads(inputs["training"].profile)
    assert profile["vocabulary_sizes"]["item_id"] == 9_725  # every rated movie + row 0, not 193,610
    assert {"name": "genres", "kind": "multi_hot"}.items() <= next(
        f for f in profile["side_features"] if f["name"] == "genres").items()
