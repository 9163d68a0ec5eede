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


#: Test hook: "EPOCH:STEP[:SIGNAL]" (1-based) makes the job send itself SIGNAL (default KILL)
#: after that training step, as a preemption (TERM) or the OOM killer (KILL) would; proves
#: that a rerun resumes. Never set it for real.
KILL_AT_ENV = "RSX_FAULT_KILL_AT"


class KillAt(keras.callbacks.Callback):
    """Signals this process after step `step` of epoch `epoch` (both 1-based); see KILL_AT_ENV."""

    def __init__(self, epoch: int, step: int, signal_name: str = "KILL"):
        super().__init__()
        self.epoch, self.step, self.signal_name = epoch, step, signal_name
        self._current = 0
        self._sent = False

    @classmethod
    def from_environment(cls) -> "KillAt | None":
        import os

        value = os.environ.get(KILL_AT_ENV)
        if not value:
            return None
        epoch, step, *name = value.split(":")
        return cls(int(epoch), int(step), *(name[:1] or ["KILL"]))

    def on_epoch_begin(self, epoch, logs=None):
        self._current = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self._current == self.epoch and batch + 1 >= self.step and not self._sent:
            import os
            import signal

            self._sent = True
            os.kill(os.getpid(), getattr(signal, f"SIG{self.signal_name}"))


class ValidationEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' EarlyStopping on a validation metric, keeping the best epoch's weights.

    Epochs without validation (`validation_freq` > 1) are skipped quietly: Keras would warn
    on each of them that the monitored metric is missing. Patience counts validations.

    Args:
        monitor: the validation metric, e.g. "val_rmse".
        greater_is_better: its direction.
        patience: validations without improvement before training stops.
    """

    def __init__(self, monitor: str, greater_is_better: bool, patience: int):
        super().__init__(monitor=monitor, mode="max" if greater_is_better else "min", patience=patience,
                         restore_best_weights=True, verbose=0)

    def get_monitor_value(self, logs):
        return (logs or {}).get(self.monitor)
