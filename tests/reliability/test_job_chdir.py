"""`hydra.job.chdir=true` moves nothing rsx keeps between launches, and a killed run still resumes.

Hydra then runs each job in its own new output folder. Everything that must outlive one
launch (the data cache, the checkpoints a rerun resumes from, the MLflow store and the
artifacts of the experiment rsx creates) stays in the launch directory (`rsx.paths`), so the
rerun of a killed run finds its checkpoint and continues after epoch 1, not from scratch.
`RSX_HOME` is unset here: the launch directory alone must decide.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rsx.testing.cli import SMALL_RUN, explain, metric_history, run_rsx, runs, tracking_uri

#: Kept between launches, in the launch directory; never inside a job's output folder.
KEPT = (".rsx_cache", "checkpoints", "mlruns", "mlflow.db")
CHDIR = ("hydra.job.chdir=true",)
NO_HOME = {"RSX_HOME": ""}


def _moved_into_outputs(workdir: Path) -> list[str]:
    return sorted(str(p.relative_to(workdir)) for name in KEPT for p in workdir.glob(f"*/**/{name}"))


def _artifact_root(workdir: Path) -> str:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri(workdir))
    return client.get_experiment_by_name("rsx").artifact_location


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_checkpoint_under_chdir(tmp_path):
    overrides = ["model=ranking", *SMALL_RUN, *CHDIR]
    killed = run_rsx(overrides, tmp_path, env={**NO_HOME, "RSX_FAULT_KILL_AT": "2:10"})
    assert killed.returncode != 0, explain(killed)
    (run,) = runs(tmp_path)
    assert run.info.status == "KILLED"
    assert (tmp_path / "checkpoints" / run.data.tags["rsx.job_key"] / "state.json").exists()

    resumed = run_rsx(overrides, tmp_path, env=NO_HOME)
    assert resumed.returncode == 0, explain(resumed)
    (after,) = runs(tmp_path)
    assert (after.info.run_id, after.info.status) == (run.info.run_id, "FINISHED")
    assert after.data.tags["rsx.resumed_at_epoch"] == "1", "continues after epoch 1, not from scratch"
    assert [m.step for m in metric_history(tmp_path, run.info.run_id, "loss")] == [1, 2, 3]
    assert (tmp_path / ".rsx_cache").is_dir()
    assert _moved_into_outputs(tmp_path) == []
    assert _artifact_root(tmp_path).removeprefix("file://").startswith(f"{tmp_path}/mlruns/")


def test_a_sweep_under_chdir_keeps_every_location_in_the_launch_dir(tmp_path):
    one_epoch = [o for o in SMALL_RUN if not o.startswith("trainer.epochs=")] + ["trainer.epochs=1"]
    result = run_rsx(["-m", *one_epoch, *CHDIR, "trainer.seed=1,2"], tmp_path, env=NO_HOME)
    assert result.returncode == 0, explain(result)
    assert len(runs(tmp_path)) == 3  # The parent and its two jobs.
    assert (tmp_path / ".rsx_cache").is_dir()
    assert _moved_into_outputs(tmp_path) == []
    assert _artifact_root(tmp_path).removeprefix("file://").startswith(f"{tmp_path}/mlruns/")
