"""Keras callbacks that turn a fit into MLflow metrics."""

from __future__ import annotations

import math
import time

import keras


class EpochMetrics(keras.callbacks.Callback):
    """Logs every epoch's Keras logs plus timing to a tracker, with step = epoch (1-based).

    `epoch_seconds` covers training only (it stops where validation starts), so
    `examples_per_second` compares backends fairly whatever the validation frequency.

    Args:
        tracker: an `rsx.tracking` tracker.
        examples_per_epoch: training examples one epoch consumes.
    """

    def __init__(self, tracker, examples_per_epoch: int):
        super().__init__()
        self.tracker = tracker
        self.examples_per_epoch = examples_per_epoch
        self._start = 0.0
        self._train_end = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._train_end = None

    def on_test_begin(self, logs=None):
        if self._train_end is None:
            self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = (self._train_end or time.perf_counter()) - self._start
        metrics = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
        metrics["epoch_seconds"] = seconds
        metrics["examples_per_second"] = self.examples_per_epoch / seconds
        self.tracker.log_metrics(metrics, step=epoch + 1)


class NonFiniteLoss(keras.callbacks.Callback):
    """Stops training on a NaN/inf loss and remembers where, so the run can say so."""

    def __init__(self):
        super().__init__()
        self.epoch = 0
        self.where: tuple[int, int] | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.where = (self.epoch + 1, batch + 1)
            self.model.stop_training = True


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class ValidationEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' EarlyStopping on a validation metric, keeping the best epoch's weights.

    Epochs without validation (`validation_freq` > 1) are skipped quietly: Keras would warn
    on each of them that the monitored metric is missing. Patience counts validations.

    A resumed job continues from the state a checkpoint saved (`state`, `resume_from`): Keras
    resets it in `on_train_begin`, which would restart patience and forget the best weights.

    Args:
        monitor: the validation metric, e.g. "val_rmse".
        greater_is_better: its direction.
        patience: validations without improvement before training stops.
    """

    def __init__(self, monitor: str, greater_is_better: bool, patience: int):
        super().__init__(monitor=monitor, mode="max" if greater_is_better else "min", patience=patience,
                         restore_best_weights=True, verbose=0)
        self._resumed: tuple[dict, list | None] | None = None

    def get_monitor_value(self, logs):
        return (logs or {}).get(self.monitor)

    def state(self) -> dict:
        """The small numbers of `rsx.resume.EarlyStoppingState` (epochs 0-based), JSON-ready."""
        best = getattr(self, "best", None)
        return {"best": None if best is None else float(best), "best_epoch": int(getattr(self, "best_epoch", 0)),
                "wait": int(self.wait), "stopped_epoch": int(self.stopped_epoch)}

    def resume_from(self, numbers: dict, best_weights: list | None) -> None:
        """Continues from a saved `state()` and its best weights at the next `on_train_begin`.

        `best_weights`: the best epoch's `Model.get_weights()` (None before any validation).
        """
        self._resumed = (dict(numbers), best_weights)

    @property
    def stopped(self) -> bool:
        """Whether this stopper (or the one it resumes) already ended training."""
        return (self._resumed[0]["stopped_epoch"] if self._resumed else self.stopped_epoch) > 0

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._resumed is not None:
            numbers, self.best_weights = self._resumed
            self._resumed = None
            self.best, self.best_epoch = numbers["best"], numbers["best_epoch"]
            self.wait, self.stopped_epoch = numbers["wait"], numbers["stopped_epoch"]
