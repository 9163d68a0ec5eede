"""The SLURM path without SLURM: hydra-submitit-launcher's `submitit_local` runs each job the way
`submitit_slurm` does on a node (the task pickled into a fresh submitit process), only locally.
Jobs find their parent run through the sweep directory; each job fails fast on a missing
data path, after its run started, so no training is needed to check the wiring."""

from __future__ import annotations

from rsx.testing.cli import explain, runs


def test_submitit_jobs_are_children_of_the_sweep(tmp_path, run_sweep, orchestrator_frameworks):
    missing = tmp_path / "no-such-ml-100k"
    result = run_sweep(
        ["-m", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10",
         "data=movielens_100k", "data.source=files", f"data.path={missing}", "trainer.seed=1,2"],
        tmp_path,
    )
    assert result.returncode == 1, explain(result)
    assert list(tmp_path.glob("multirun/*/*/.submitit")), "submitit ran the jobs"
    all_runs = runs(tmp_path)
    (parent,) = [r for r in all_runs if r.data.tags.get("rsx.role") == "sweep"]
    children = [r for r in all_runs if r.data.tags.get("rsx.role") != "sweep"]
    assert parent.info.status == "FAILED"
    assert sorted(r.info.run_name for r in children) == ["trainer.seed=1", "trainer.seed=2"]
    for run in children:
        assert run.info.status == "FAILED"
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert str(missing) in run.data.tags["failure"]
    assert "rsx sweep: 2 jobs: 0 finished, 2 failed, 0 skipped" in result.stdout
    assert orchestrator_frameworks(tmp_path) == []
