"""One output directory serves one live job: no run ever trains another run's config.

Two launches given the same `hydra.run.dir` used to share `rsx_job.yaml`, so each worker could
read the other's config (both trained seed 1). Now the second launch is refused in one line
while the first runs (a lock the kernel drops when its holder dies, so a killed launch never
blocks the next), and a worker checks that the job file is the one its launcher wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from rsx.errors import ConfigError
from rsx.job_files import JOB_ID_ENV, claim, claim_sweep, write_job_file
from rsx.paths import JobFiles
from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs
from rsx.testing.compose import compose_config


def test_a_job_directory_is_held_by_one_launch_at_a_time(tmp_path):
    files = JobFiles.of(tmp_path / "job")
    with claim(files):
        with pytest.raises(ConfigError, match=r"is in use by another rsx job \(pid \d+\).* -> give each launch its own hydra.run.dir"):
            claim(files)
    with claim(files):  # Released with its holder.
        pass
    with claim_sweep(tmp_path):
        with pytest.raises(ConfigError, match="in use by another rsx sweep"):
            claim_sweep(tmp_path)


def test_a_worker_refuses_a_job_file_another_launch_rewrote(tmp_path):
    cfg = compose_config(["data=synthetic", "tracking.uri=sqlite:///mlflow.db"])
    files = JobFiles.of(tmp_path)
    write_job_file(cfg, [], files)
    env = {**os.environ, JOB_ID_ENV: "the-id-of-another-launch"}
    result = subprocess.run([sys.executable, "-m", "rsx.worker", str(files.job)], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, explain(result)
    assert "is not the job this worker was started for" in result.stderr
    assert not files.result.exists()


@pytest.mark.slow
def test_two_runs_given_one_output_dir_never_train_each_others_config(tmp_path):
    small = [o for o in SMALL_RUN if not o.startswith(("trainer.epochs=", "trainer.verbose="))]
    shared = ["hydra.run.dir=out/x", *small, "trainer.verbose=2"]
    env = {**os.environ, "RSX_HOME": str(tmp_path)}
    env.pop("KERAS_BACKEND", None)
    first = subprocess.Popen([sys.executable, "-m", "rsx", *shared, "trainer.seed=1", "trainer.epochs=2"],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        for line in first.stdout:
            if line.startswith("Epoch 1/") or time.monotonic() > deadline:
                break
        assert first.poll() is None, "the first run must still be training"
        second = run_rsx([*shared, "trainer.seed=2", "trainer.epochs=1"], tmp_path, timeout=120)
        out = first.stdout.read()
        assert first.wait(timeout=240) == 0, out[-3000:]
    finally:
        first.kill()
        first.stdout.close()
    assert second.returncode == 2, explain(second)
    (line,) = second.stderr.strip().splitlines()
    assert line.startswith("rsx: error: the output directory") and "out/x is in use by another rsx job" in line
    (run,) = runs(tmp_path)
    assert run.data.params["trainer.seed"] == "1" and run.info.status == "FINISHED"

    again = run_rsx([*shared, "trainer.seed=2", "trainer.epochs=1"], tmp_path)  # The directory is free again.
    assert again.returncode == 0, explain(again)
    # Each run trained the config it was launched with (its params and its overrides agree).
    trained = {(r.data.params["trainer.seed"], r.data.params["trainer.epochs"]) for r in runs(tmp_path)}
    assert trained == {("1", "2"), ("2", "1")}
