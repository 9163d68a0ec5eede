"""Training chooses on validation, looks at test once, and says where validation came from."""

import pytest

from rsx.evaluation import test_metric, validation_metric
from rsx.testing.cli import explain, metric_history, run_rsx, runs, tracking_uri

SMALL = ["data=synthetic", "data.num_interactions=6000", "data.num_users=150", "data.num_items=80",
         "trainer.batch_size=128", "trainer.verbose=0"]


def _run(tmp_path_factory, name, overrides):
    workdir = tmp_path_factory.mktemp(name)
    result = run_rsx([*SMALL, *overrides, f"tracking.uri={tracking_uri(workdir)}"], workdir)
    assert result.returncode == 0, explain(result)
    (run,) = runs(workdir)
    return workdir, run


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    # Learning rates high enough that validation RMSE gets worse again within 4 epochs (here:
    # best at epoch 3, stopped after 4 of 6, so the restored weights' final val_rmse goes one
    # step after epoch 4, not after epoch 6, which never ran).
    return _run(tmp_path_factory, "held_out", [
        "trainer.epochs=6", "trainer.early_stopping_patience=1",
        "model.optimizer.learning_rate=0.3", "model.table_optimizer.learning_rate=0.3"])


@pytest.fixture(scope="module")
def tutorial_style(tmp_path_factory):
    return _run(tmp_path_factory, "tutorial_style", ["trainer.epochs=1", "data.validation_from=test"])


def test_validation_names():
    assert validation_metric("test_rmse") == "val_rmse" == validation_metric("rmse") == validation_metric("val_rmse")
    assert test_metric("val_recall_at_10") == "test_recall_at_10"


@pytest.mark.slow
def test_a_held_out_validation_split_is_tagged_and_counted(held_out):
    _, run = held_out
    tags = run.data.tags
    assert tags["rsx.validation"] == "validation"
    rows = [int(tags[f"data.{split}_rows"]) for split in ("train", "validation", "test")]
    assert rows == [4320, 480, 1200]  # 6000 x 0.8 x 0.9, 6000 x 0.8 x 0.1, 6000 x 0.2
    assert int(tags["data.cold_test_users"]) >= 0 and "data.cold_validation_items" in tags


@pytest.mark.slow
def test_early_stopping_keeps_the_best_validation_epoch(held_out):
    workdir, run = held_out
    tags, metrics = run.data.tags, run.data.metrics
    assert tags["rsx.early_stopping.monitor"] == "val_rmse"
    per_epoch = [m for m in metric_history(workdir, run.info.run_id, "val_rmse")
                 if m.step <= int(tags["rsx.early_stopping.last_epoch"])]
    best = min(per_epoch, key=lambda m: m.value)
    assert int(tags["rsx.early_stopping.best_epoch"]) == best.step
    # The final val_rmse MLflow shows is the restored (best) model's, not the last epoch's,
    # logged right after the last epoch that ran.
    assert metrics["val_rmse"] == pytest.approx(best.value, rel=1e-4)
    last = int(tags["rsx.early_stopping.last_epoch"])
    steps = [m.step for m in metric_history(workdir, run.info.run_id, "val_rmse")]
    assert max(steps) == (last if best.step == last else last + 1), steps
    assert metrics["val_rmse"] < metrics["baseline_val_rmse"]
    assert "test_rmse" in metrics and "baseline_test_rmse" in metrics


@pytest.mark.slow
def test_validation_from_test_says_so_and_reports_test_as_validation(tutorial_style):
    _, run = tutorial_style
    assert run.data.tags["rsx.validation"] == "test"
    metrics = run.data.metrics
    assert metrics["val_rmse"] == pytest.approx(metrics["test_rmse"])
    assert metrics["baseline_val_rmse"] == pytest.approx(metrics["baseline_test_rmse"])


def test_early_stopping_callback_stops_after_patience_and_restores_the_best_weights():
    import keras
    import numpy as np

    from rsx.engine.callbacks import ValidationEarlyStopping

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    stopper = ValidationEarlyStopping("val_rmse", greater_is_better=False, patience=2)
    stopper.set_model(model)
    model.stop_training = False  # what fit sets
    stopper.on_train_begin()
    kernel = {}  # epoch -> the weight it ended with
    for epoch, logs in enumerate([{"val_rmse": 0.5}, {"val_rmse": 0.4}, {}, {"val_rmse": 0.45}, {"val_rmse": 0.46}]):
        model.layers[0].kernel.assign(np.full((1, 1), float(epoch), "float32"))
        kernel[epoch] = float(epoch)
        stopper.on_epoch_end(epoch, logs)  # epoch 2 had no validation: skipped quietly
        if model.stop_training:
            break
    assert (epoch, stopper.best_epoch) == (4, 1)  # two validations without improvement
    stopper.on_train_end()
    assert float(model.layers[0].kernel.numpy()[0, 0]) == kernel[1]
