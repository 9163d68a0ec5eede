"""Fault injection for rsx's own tests: a training job that dies where a test says.

Set through the environment of `python -m rsx` (so it reaches the worker process); never set
it for real. Production modules only ask `fault_callbacks()` for what to add, and get nothing
when no fault is set.

- `RSX_FAULT_KILL_AT="EPOCH:STEP[:SIGNAL]"` (1-based): after that training step the job sends
  itself SIGNAL (default KILL), as the OOM killer (KILL) or a preemption (TERM) would; the
  resume tests prove a rerun continues from there.
- `RSX_FAULT_SIGNAL_AT="POINT[:SIGNAL]"`: the job sends itself SIGNAL (default INT) when it
  reaches POINT of its story (`signal_at`); `run_created` is the moment its MLflow run exists,
  before training: a stop landing there must still end the run KILLED.

Nothing here imports Keras at import time: the callback is built inside a training process,
which has imported it already.
"""

from __future__ import annotations

import os
import signal

#: "EPOCH:STEP[:SIGNAL]": see the module docstring.
KILL_AT_ENV = "RSX_FAULT_KILL_AT"
#: "POINT[:SIGNAL]": see the module docstring.
SIGNAL_AT_ENV = "RSX_FAULT_SIGNAL_AT"


def signal_at(point: str) -> None:
    """Sends this process the signal `RSX_FAULT_SIGNAL_AT` names when it names `point`.

    A Python signal handler runs at the next bytecode of the main thread, so the stop lands
    right here, as a real one arriving at this moment would.
    """
    value = os.environ.get(SIGNAL_AT_ENV)
    if not value:
        return
    name, _, signal_name = value.partition(":")
    if name == point:
        os.kill(os.getpid(), getattr(signal, f"SIG{signal_name or 'INT'}"))


def fault_callbacks() -> list:
    """The Keras callbacks of the faults set in the environment (usually none)."""
    value = os.environ.get(KILL_AT_ENV)
    if not value:
        return []
    epoch, step, *name = value.split(":")
    return [_kill_at(int(epoch), int(step), getattr(signal, f"SIG{(name[:1] or ['KILL'])[0]}"))]


def _kill_at(epoch: int, step: int, signum: int):
    """A callback that signals this process after step `step` of epoch `epoch` (1-based)."""
    import keras

    class KillAt(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self._current = 0
            self._sent = False

        def on_epoch_begin(self, index, logs=None):
            self._current = index + 1

        def on_train_batch_end(self, batch, logs=None):
            if self._current == epoch and batch + 1 >= step and not self._sent:
                self._sent = True
                os.kill(os.getpid(), signum)

    return KillAt()
