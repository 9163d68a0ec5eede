"""A job SIGKILLed in the middle of epoch 2 of 3 resumes when the same command is rerun.

The rerun continues the same MLflow run (same id, FINISHED at the end) from the checkpoint of
epoch 1: every epoch's metrics appear exactly once, and the final test metrics match an
uninterrupted run of the same seed within TOLERANCE. They are not bit-identical because the
resumed epochs draw a different (still seeded) batch order: the training split's reshuffle
follows the dataset's iteration count, which restarts with the process.
"""

import os

import pytest

from rsx.testing.cli import SMALL_RUN, explain, metric_history, run_rsx, runs

#: Relative difference allowed between the resumed and the uninterrupted run's test RMSE.
TOLERANCE = 0.03
#: Epoch 2 of 3, after this many of its 100 steps.
KILL_AT = "2:40"

BACKENDS = {
    # In-process (no worker around it): the SIGKILLed run stays RUNNING, as after an OOM kill.
    "cpu_reference-tensorflow": ("backend=cpu_reference", "backend.keras_backend=tensorflow", "trainer.isolate=false"),
    "cpu_reference-jax": ("backend=cpu_reference", "backend.keras_backend=jax"),
    "jax_dataparallel": ("backend=jax_dataparallel", "backend.cpu_devices=2"),
    "tf_sparsecore": ("backend=tf_sparsecore",),
}
#: Backends whose resumed metrics are also compared with an uninterrupted run (one reference
#: run keeps the suite short; the others check the MLflow record and the resume itself).
COMPARED = ("cpu_reference-tensorflow",)


def _epochs(workdir, run_id, key):
    return [m.step for m in metric_history(workdir, run_id, key)]


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_sigkill_mid_epoch_then_rerun_resumes_the_same_run(tmp_path, backend):
    overrides = [*BACKENDS[backend], "model=ranking", *SMALL_RUN]

    killed = run_rsx(overrides, tmp_path, env={"RSX_FAULT_KILL_AT": KILL_AT})
    assert killed.returncode != 0, explain(killed)
    (run,) = runs(tmp_path)
    # In-process nobody is left to mark the run; a worker's parent marks it KILLED.
    assert run.info.status == ("RUNNING" if "trainer.isolate=false" in overrides else "KILLED")
    assert _epochs(tmp_path, run.info.run_id, "loss") == [1]
    checkpoints = tmp_path / "checkpoints" / run.data.tags["rsx.job_key"]
    assert sorted(os.listdir(checkpoints)) == ["epoch-00001.weights.h5", "state.json"]

    resumed = run_rsx(overrides, tmp_path)
    assert resumed.returncode == 0, explain(resumed)
    (after,) = runs(tmp_path)
    assert after.info.run_id == run.info.run_id
    assert after.info.status == "FINISHED"
    assert after.data.tags["rsx.resumed_at_epoch"] == "1"
    if "trainer.isolate=false" not in overrides:  # A worker's last line names the resumed run.
        assert f"rsx: MLflow run {run.info.run_id} FINISHED" in resumed.stdout, resumed.stdout[-2000:]
    for key in ("loss", "val_loss", "rmse", "epoch_seconds"):
        assert _epochs(tmp_path, run.info.run_id, key) == [1, 2, 3], key
    assert _epochs(tmp_path, run.info.run_id, "test_rmse") == [3]
    assert not checkpoints.exists(), "checkpoints are removed once the run FINISHED"

    if backend in COMPARED:
        reference_dir = tmp_path / "uninterrupted"
        reference_dir.mkdir()
        reference = run_rsx(overrides, reference_dir)
        assert reference.returncode == 0, explain(reference)
        (ref,) = runs(reference_dir)
        want, got = ref.data.metrics["test_rmse"], after.data.metrics["test_rmse"]
        assert abs(got - want) <= TOLERANCE * want, (got, want)


def test_sigterm_ends_the_run_killed_and_a_rerun_resumes_it(tmp_path):
    """Preemption: SIGTERM ends the run KILLED (not FAILED, not left RUNNING) after epoch 1's
    checkpoint; the rerun continues it."""
    overrides = ["model=ranking", *SMALL_RUN, "trainer.epochs=2", "trainer.isolate=false"]
    stopped = run_rsx(overrides, tmp_path, env={"RSX_FAULT_KILL_AT": "2:10:TERM"})
    assert stopped.returncode != 0, explain(stopped)
    (run,) = runs(tmp_path)
    assert run.info.status == "KILLED"
    resumed = run_rsx(overrides, tmp_path)
    assert resumed.returncode == 0, explain(resumed)
    (after,) = runs(tmp_path)
    assert (after.info.run_id, after.info.status) == (run.info.run_id, "FINISHED")
    assert after.data.tags["rsx.resumed_at_epoch"] == "1"
    assert _epochs(tmp_path, run.info.run_id, "val_loss") == [1, 2]
