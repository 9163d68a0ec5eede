"""Which run and checkpoint a rerun continues (`rsx.resume.plan`), without training."""

import os
import subprocess
import sys

from omegaconf import OmegaConf

from rsx.config import TrainerConfig
from rsx.resume import PROCESS_TAG, CheckpointState, plan, read_state, this_process, write_state
from rsx.tracking import NullTracker, RunRecord

KEY = "abc123"


class FakeTracker:
    """Answers `job_runs` from a list of (run id, status, tags)."""

    def __init__(self, *runs):
        self.runs = [RunRecord(r, "", s, "0", None, None, t, {}, {}) for r, s, t in runs]

    def job_runs(self, job_key, statuses=()):
        assert job_key == KEY
        return [r for r in self.runs if not statuses or r.status in statuses]


def trainer(tmp_path, **overrides):
    return OmegaConf.merge(OmegaConf.structured(TrainerConfig), {"checkpoint_dir": str(tmp_path), **overrides})


def checkpoint(tmp_path, run_id, epoch=2):
    directory = tmp_path / KEY
    directory.mkdir(exist_ok=True)
    weights = directory / f"epoch-{epoch:05d}.weights.h5"
    weights.write_bytes(b"weights")
    write_state(str(directory), CheckpointState(epoch, str(weights), run_id, KEY))
    return directory


def dead_process() -> str:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return this_process().split(":")[0] + f":{child.stdout.strip()}:?"


def test_killed_run_resumes_with_its_checkpoint(tmp_path):
    directory = checkpoint(tmp_path, "run-1")
    got = plan(trainer(tmp_path), KEY, FakeTracker(("run-1", "RUNNING", {PROCESS_TAG: dead_process()})))
    assert got.run_id == "run-1" and got.initial_epoch == 2 and got.directory == str(directory)


def test_ctrl_c_run_resumes_too(tmp_path):
    checkpoint(tmp_path, "run-1")
    got = plan(trainer(tmp_path), KEY, FakeTracker(("run-1", "KILLED", {})))
    assert (got.run_id, got.initial_epoch) == ("run-1", 2)


def test_run_killed_before_its_first_checkpoint_resumes_from_scratch(tmp_path):
    got = plan(trainer(tmp_path), KEY, FakeTracker(("run-1", "KILLED", {})))
    assert (got.run_id, got.checkpoint) == ("run-1", None)


def test_checkpoint_of_another_run_is_discarded(tmp_path):
    directory = checkpoint(tmp_path, "run-0")
    got = plan(trainer(tmp_path), KEY, FakeTracker(("run-1", "KILLED", {})))
    assert (got.run_id, got.checkpoint) == ("run-1", None)
    assert not directory.exists()


def test_failed_or_finished_runs_are_not_resumed(tmp_path):
    directory = checkpoint(tmp_path, "run-1")
    got = plan(trainer(tmp_path), KEY, FakeTracker(("run-1", "FAILED", {}), ("run-0", "FINISHED", {})))
    assert (got.run_id, got.checkpoint) == (None, None)
    assert got.directory == str(directory) and not directory.exists()


def test_a_live_job_with_the_same_key_is_left_alone(tmp_path):
    directory = checkpoint(tmp_path, "run-1")
    parent = this_process().split(":")
    alive = f"{parent[0]}:{os.getppid()}:?"  # pytest's parent shell: alive, and not us
    got = plan(trainer(tmp_path), KEY, FakeTracker(("run-1", "RUNNING", {PROCESS_TAG: alive})))
    assert (got.run_id, got.directory, got.checkpoint) == (None, None, None)
    assert read_state(str(directory)) is not None, "the live job's checkpoint is untouched"


def test_tracking_off_uses_the_checkpoint_alone(tmp_path):
    checkpoint(tmp_path, None)
    got = plan(trainer(tmp_path), KEY, NullTracker())
    assert got.run_id is None and got.initial_epoch == 2


def test_resume_false_and_checkpoint_false(tmp_path):
    directory = checkpoint(tmp_path, "run-1")
    assert plan(trainer(tmp_path, checkpoint=False), KEY, FakeTracker()).directory is None
    got = plan(trainer(tmp_path, resume=False), KEY, FakeTracker(("run-1", "KILLED", {})))
    assert (got.run_id, got.checkpoint) == (None, None) and not directory.exists()


def test_torn_state_file_is_ignored(tmp_path):
    directory = checkpoint(tmp_path, "run-1")
    (directory / "state.json").write_text('{"epoch": 2, "weights"')
    assert read_state(str(directory)) is None
