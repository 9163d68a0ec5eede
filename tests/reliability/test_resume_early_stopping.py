"""A job with early stopping that is killed after its best epoch ends, once resumed, exactly as
an uninterrupted run: same best epoch, same last epoch, same (restored) weights and test metric.

The checkpoint holds the stopper's state after each epoch (best value, patience count, whether
it stopped) and the best epoch's weights; without them a resumed job restarted patience and
forgot the best weights.
"""

import json

import numpy as np
import pytest

from rsx.resume import CheckpointState, read_state, write_state
from rsx.testing.cli import SMALL_RUN, explain, runs, run_rsx


def _model():
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _epoch(model, stopper, checkpoint, epoch, val_rmse):
    """One epoch's end as `fit` calls it: the stopper first, then the checkpoint (training.py's order)."""
    model.layers[0].kernel.assign(np.full((1, 1), float(epoch), "float32"))
    stopper.on_epoch_end(epoch, {"loss": 1.0, "val_rmse": val_rmse})
    checkpoint.on_epoch_end(epoch, {"loss": 1.0, "val_rmse": val_rmse})


def _stopper(model):
    from rsx.engine.callbacks import ValidationEarlyStopping

    stopper = ValidationEarlyStopping("val_rmse", greater_is_better=False, patience=2)
    stopper.set_model(model)
    model.stop_training = False  # what fit sets
    stopper.on_train_begin()
    return stopper


def test_checkpoint_round_trips_the_stopper_state_and_best_weights(tmp_path):
    from rsx.engine.checkpoints import EpochCheckpoint
    from rsx.engine.training import resume_early_stopping

    model = _model()
    stopper = _stopper(model)
    checkpoint = EpochCheckpoint(str(tmp_path), "run-1", "key", stopper)
    checkpoint.set_model(model)
    for epoch, val in enumerate([0.5, 0.4, 0.45]):
        _epoch(model, stopper, checkpoint, epoch, val)
    state = read_state(str(tmp_path))
    assert state.epoch == 3
    assert (state.early_stopping.best, state.early_stopping.best_epoch, state.early_stopping.wait,
            state.early_stopping.stopped_epoch) == (0.4, 1, 1, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best-epoch-00002.weights.npz", "epoch-00003.weights.h5", "state.json"]

    resumed = _stopper(model)
    resume_early_stopping(resumed, state)
    resumed.on_train_begin()  # Keras resets here: the saved state must survive it.
    assert resumed.state() == stopper.state()
    assert [w.tolist() for w in resumed.best_weights] == [w.tolist() for w in stopper.best_weights]
    checkpoint = EpochCheckpoint(str(tmp_path), "run-1", "key", resumed)  # The rerun's own.
    checkpoint.set_model(model)
    _epoch(model, resumed, checkpoint, 3, 0.46)  # Second validation without improvement: stop.
    assert model.stop_training and read_state(str(tmp_path)).early_stopping.stopped_epoch == 3
    assert resumed.stopped
    resumed.on_train_end()
    assert float(model.layers[0].kernel.numpy()[0, 0]) == 1.0  # Epoch 2's (0-based 1) weights.

    stopped = _stopper(model)
    resume_early_stopping(stopped, read_state(str(tmp_path)))
    assert stopped.stopped, "a job killed after stopping must not train on"


def test_a_checkpoint_without_stopper_state_still_loads_and_says_so(tmp_path, caplog):
    weights = tmp_path / "epoch-00002.weights.h5"
    weights.write_bytes(b"weights")
    write_state(str(tmp_path), CheckpointState(2, str(weights), "run-1", "key"))
    assert "early_stopping" not in json.loads((tmp_path / "state.json").read_text())
    state = read_state(str(tmp_path))
    assert state.epoch == 2 and state.early_stopping is None

    from rsx.engine.training import resume_early_stopping

    stopper = _stopper(_model())
    with caplog.at_level("WARNING", logger="rsx"):
        resume_early_stopping(stopper, state)
    assert "no early-stopping state" in caplog.text
    assert not stopper.stopped


#: Noisy labels, few rows and fast table learning: validation RMSE is best after epoch 1 and
#: worse after (measured: 0.378, 0.389, 0.383, 0.410), so patience 2 stops after epoch 3.
EARLY_STOPPING_RUN = (
    *(o for o in SMALL_RUN if not o.startswith(("data.num_interactions=", "trainer.epochs="))),
    "model=ranking", "trainer.isolate=false", "data.num_interactions=3000", "data.noise=0.5",
    "trainer.epochs=4", "trainer.early_stopping_patience=2",
    "model.optimizer.learning_rate=0.3", "model.table_optimizer.learning_rate=0.03",
)


@pytest.mark.slow
def test_killed_after_its_best_epoch_a_resumed_run_stops_and_restores_as_an_uninterrupted_one(tmp_path):
    # Killed in epoch 3: the checkpoint of epoch 2 holds best = epoch 1 and one validation of
    # patience used. Resumed without them, patience restarted at epoch 3 and took it as best.
    killed_dir, reference_dir = tmp_path / "killed", tmp_path / "uninterrupted"
    killed_dir.mkdir(), reference_dir.mkdir()
    killed = run_rsx(EARLY_STOPPING_RUN, killed_dir, env={"RSX_FAULT_KILL_AT": "3:5"})
    assert killed.returncode != 0, explain(killed)
    resumed = run_rsx(EARLY_STOPPING_RUN, killed_dir)
    assert resumed.returncode == 0, explain(resumed)
    reference = run_rsx(EARLY_STOPPING_RUN, reference_dir)
    assert reference.returncode == 0, explain(reference)

    (after,), (ref,) = runs(killed_dir), runs(reference_dir)
    assert after.data.tags["rsx.resumed_at_epoch"] == "2"
    tags = ("rsx.early_stopping.best_epoch", "rsx.early_stopping.last_epoch")
    assert [after.data.tags[t] for t in tags] == [ref.data.tags[t] for t in tags] == ["1", "3"]
    # The final weights are epoch 1's in both, trained before any kill: equal, not just close.
    assert after.data.metrics["test_rmse"] == ref.data.metrics["test_rmse"]
