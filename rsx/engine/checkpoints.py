"""Per-epoch checkpoints of a job's whole training state, and restoring them on a rerun.

Why not `keras.callbacks.BackupAndRestore`: it overwrites its one weights file in place and
writes the epoch counter afterwards, so a kill during or between the two writes leaves a
corrupt file, or weights of epoch N labelled N-1 (a silently repeated epoch). It also deletes
its backup when `fit` returns, before the final evaluation and model logging, and does not
say which MLflow run the state belongs to. `EpochCheckpoint` keeps Keras' own weights format
(`save_weights`: model variables *and* optimizer state, including the inner optimizers of
`TableRoutedOptimizer` and Keras' seed-generator state) but commits each checkpoint with an
atomic rename of a small state file (`rsx.resume`), and leaves deletion to the job.
"""

from __future__ import annotations

import glob
import math
import os

import keras
import numpy as np

from rsx.errors import RsxError
from rsx.resume import CheckpointState, EarlyStoppingState, write_state

#: Endings of the weights files a checkpoint folder holds; any not named by the state is stale.
WEIGHTS_FILES = ("*.weights.h5", "*.weights.npz")


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves model and optimizer state after every completed epoch.

    Place it after the callback that logs the epoch's metrics: a kill between the two then
    repeats the epoch (its metrics are not logged again, see `MlflowTracker`) instead of
    skipping its metrics. An epoch whose loss is NaN/inf is not saved.

    With early stopping, place it after the stopper too: the checkpoint then holds the
    stopper's state after this same epoch (best value, patience count, whether it stopped),
    and the best epoch's weights in `best-epoch-NNNNN.weights.npz` (written when a new best
    appears, committed by the same state file).

    Args:
        directory: where the job's checkpoints live (`rsx.resume.ResumePlan.directory`).
        run_id: the MLflow run they belong to; None when tracking is off.
        job_key: the job's key.
        stopper: the job's `ValidationEarlyStopping`, or None.
    """

    def __init__(self, directory: str, run_id: str | None, job_key: str, stopper=None):
        super().__init__()
        self.directory = directory
        self.run_id = run_id
        self.job_key = job_key
        self.stopper = stopper
        self._best_written: str | None = None  # Written by this process: a file left by a killed
        # attempt under the same name may hold another batch order's weights.

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            return
        os.makedirs(self.directory, exist_ok=True)
        name = f"epoch-{epoch + 1:05d}.weights.h5"
        path = os.path.join(self.directory, name)
        partial = os.path.join(self.directory, f"partial-{name}")
        self.model.save_weights(partial, overwrite=True)
        os.replace(partial, path)
        stopper = self._save_stopper() if self.stopper is not None else None
        write_state(self.directory, CheckpointState(epoch + 1, path, self.run_id, self.job_key, stopper))
        keep = {path, stopper and stopper.best_weights}
        for old in (old for pattern in WEIGHTS_FILES for old in glob.glob(os.path.join(self.directory, pattern))):
            if old not in keep:
                os.remove(old)

    def _save_stopper(self) -> EarlyStoppingState:
        """The stopper's state, its best weights written (atomically) when they changed."""
        numbers = self.stopper.state()
        best_weights = None
        if self.stopper.best_weights is not None:
            best_weights = os.path.join(self.directory, f"best-epoch-{numbers['best_epoch'] + 1:05d}.weights.npz")
            if best_weights != self._best_written:
                partial = os.path.join(self.directory, "partial-best.weights.npz")
                with open(partial, "wb") as f:
                    np.savez(f, *self.stopper.best_weights)
                os.replace(partial, best_weights)
                self._best_written = best_weights
        return EarlyStoppingState(**numbers, best_weights=best_weights)


def load_best_weights(path: str) -> list:
    """The `Model.get_weights()` list `EpochCheckpoint` saved for the best epoch."""
    with np.load(path) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


def restore(model: keras.Model, state: CheckpointState) -> int:
    """Loads a checkpoint into a compiled model; returns the epoch to continue from (0-based).

    The optimizer is built first, exactly as `fit` would build it: its variables must exist
    for their saved values to be loaded into them.
    """
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    try:
        model.load_weights(state.weights)
    except Exception as error:
        raise RsxError(
            f"the checkpoint {state.weights} does not fit this model "
            f"({type(error).__name__}: {' '.join(str(error).split())[:300]})",
            "delete that folder, or rerun with trainer.resume=false to start afresh",
        ) from error
    return state.epoch

