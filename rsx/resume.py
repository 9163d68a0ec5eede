"""Continuing a job that was killed: which MLflow run it resumes, which checkpoint it restores.

A job is identified by its key (`rsx.job.job_key`: the same config gives the same key). Its
checkpoints live in `<checkpoint root>/<job key>/`, a place that does not change from one
launch to the next (Hydra's output directory does), and each checkpoint names the MLflow run
it belongs to. Rerunning the same command after a crash therefore finds both again:

- an unfinished run (RUNNING: the process died without a word, e.g. SIGKILL or OOM; KILLED:
  Ctrl-C or SIGTERM) with the job's key is resumed: same run id, status back to RUNNING;
- its checkpoint is restored and training continues after the last completed epoch;
- a checkpoint of any other run (a FAILED one, or one whose run is gone) is discarded: a
  FAILED run ended on an error rsx reported, and a rerun starts afresh.

A RUNNING run whose process is still alive on this machine is someone else's live job, not a
crash: the new job then starts its own run and neither reads nor writes checkpoints.

Nothing here imports Keras; `rsx.engine.checkpoints` writes and restores the weights.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import socket
from typing import Any, Optional

from rsx import paths
from rsx.job_files import process_start_time
from rsx.tracking.vocabulary import PROCESS_TAG, RESUMABLE, RUNNING  # noqa: F401  (PROCESS_TAG re-exported)

log = logging.getLogger("rsx")

#: The file that commits a checkpoint: it is replaced atomically after the weights are written.
STATE_FILE = "state.json"


@dataclasses.dataclass(frozen=True)
class CheckpointState:
    """The last completed epoch of a job, as `rsx.engine.checkpoints.EpochCheckpoint` wrote it.

    Args:
        epoch: epochs completed (1-based count); training resumes at this 0-based epoch.
        weights: path of the Keras weights file (model and optimizer state).
        run_id: the MLflow run the checkpoint belongs to; None when tracking was off.
        job_key: the job's key.
        early_stopping: the early stopper's state after that epoch (`EarlyStoppingState`);
            None when the job has no early stopping, or the checkpoint predates this field.
    """

    epoch: int
    weights: str
    run_id: Optional[str]
    job_key: str
    early_stopping: Optional["EarlyStoppingState"] = None


@dataclasses.dataclass(frozen=True)
class EarlyStoppingState:
    """What `rsx.engine.callbacks.ValidationEarlyStopping` knows after an epoch, so that a
    resumed job stops where, and keeps the weights that, the uninterrupted one would.

    Epochs are 0-based, as Keras counts them.

    Args:
        best: the best monitored value so far; None before the first validation.
        best_epoch: the epoch that reached it.
        wait: validations counted towards patience.
        stopped_epoch: the epoch after which it stopped training; 0 = not stopped.
        best_weights: path of the best epoch's model weights (`numpy.savez` of
            `Model.get_weights()`, in order); None before the first validation.
    """

    best: Optional[float]
    best_epoch: int
    wait: int
    stopped_epoch: int
    best_weights: Optional[str]


@dataclasses.dataclass(frozen=True)
class ResumePlan:
    """What a job continues from.

    Args:
        job_key: the job's key.
        directory: where the job writes its checkpoints; None = no checkpointing.
        run_id: the MLflow run to resume; None = start a new run.
        checkpoint: the state to restore before training; None = train from scratch.
    """

    job_key: str = ""
    directory: Optional[str] = None
    run_id: Optional[str] = None
    checkpoint: Optional[CheckpointState] = None

    @property
    def initial_epoch(self) -> int:
        return self.checkpoint.epoch if self.checkpoint else 0


def read_state(directory: str) -> Optional[CheckpointState]:
    """The committed checkpoint in `directory`, or None (none yet, or unreadable)."""
    path = os.path.join(directory, STATE_FILE)
    try:
        with open(path) as f:
            state = json.load(f)
        weights = os.path.join(directory, state["weights"])
        if not os.path.exists(weights):
            return None
        stopper = state.get("early_stopping")  # Absent in checkpoints of older rsx versions.
        if stopper is not None:
            best_weights = stopper["best_weights"] and os.path.join(directory, stopper["best_weights"])
            if best_weights and not os.path.exists(best_weights):
                return None
            stopper = EarlyStoppingState(
                None if stopper["best"] is None else float(stopper["best"]), int(stopper["best_epoch"]),
                int(stopper["wait"]), int(stopper["stopped_epoch"]), best_weights,
            )
        return CheckpointState(int(state["epoch"]), weights, state.get("run_id"), state["job_key"], stopper)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("rsx: ignoring the unreadable checkpoint %s (%s)", path, error)
        return None


def write_state(directory: str, state: CheckpointState) -> None:
    """Commits `state`: written beside, then renamed over the old state in one step."""
    record = {**dataclasses.asdict(state), "weights": os.path.basename(state.weights)}
    if state.early_stopping is None:
        del record["early_stopping"]
    elif state.early_stopping.best_weights is not None:
        record["early_stopping"]["best_weights"] = os.path.basename(state.early_stopping.best_weights)
    tmp = os.path.join(directory, STATE_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(record, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(directory, STATE_FILE))


def discard(directory: Optional[str]) -> None:
    """Removes a job's checkpoints (after it finished, or when they belong to another run)."""
    if directory and os.path.isdir(directory):
        shutil.rmtree(directory, ignore_errors=True)


def this_process() -> str:
    """"host:pid:start" for the `rsx.process` tag; the start time guards against pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{process_start_time(os.getpid())}"


def is_alive(process: Optional[str]) -> bool:
    """Whether the process named by an `rsx.process` tag still runs (on this host)."""
    if not process:
        return False
    host, _, rest = process.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # Another machine's job: a run left RUNNING there is taken as crashed.
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # It exists, owned by someone else.
    return start in ("?", process_start_time(pid)) and not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether `pid` has ended but is not yet reaped (a worker SIGKILLed with its launcher,
    waiting for a parent that never waits): it will not end its run."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def plan(trainer_cfg: Any, key: str, tracker: Any) -> ResumePlan:
    """Decides which run and checkpoint a job with key `key` continues from.

    Args:
        trainer_cfg: the `trainer` config (`checkpoint`, `checkpoint_dir`, `resume`).
        key: the job's key.
        tracker: the job's `rsx.tracking.Tracker`, not yet started.
    """
    if not trainer_cfg.get("checkpoint", True):
        return ResumePlan(key)
    directory = os.path.join(paths.checkpoint_root(trainer_cfg), key)
    state = read_state(directory)
    if not trainer_cfg.get("resume", True):
        discard(directory)
        return ResumePlan(key, directory=directory)
    from rsx.tracking import NullTracker

    if isinstance(tracker, NullTracker):  # Tracking off: the checkpoint alone says where we were.
        return ResumePlan(key, directory=directory, checkpoint=state)

    for run in tracker.job_runs(key, statuses=RESUMABLE):
        if run.status == RUNNING and is_alive(run.tags.get(PROCESS_TAG)):
            log.warning(
                "rsx: run %s of this same job is still running (%s); starting a separate run "
                "without checkpoints",
                run.run_id, run.tags.get(PROCESS_TAG),
            )
            return ResumePlan(key)
        ours = state if state is not None and state.run_id == run.run_id else None
        if state is not None and ours is None:
            discard(directory)
        return ResumePlan(key, directory=directory, run_id=run.run_id, checkpoint=ours)
    discard(directory)  # Left by a run that FAILED, FINISHED or is gone: not ours to continue.
    return ResumePlan(key, directory=directory)
