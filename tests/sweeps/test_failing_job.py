"""A sweep where one job fails at run time, run twice.

The first sweep runs its two jobs in parallel (hydra-joblib-launcher), so both create their
runs in the same SQLite store at once: the experiment and parent run created up front keep
them from racing. The failing job's run ends FAILED, the other FINISHED, the sweep prints its
summary and exits 1, and the parent ends FAILED naming the failed job. The identical second
sweep skips the finished job (`tracking.skip_finished`, on by default) and runs only the one
that failed.
"""

from __future__ import annotations

import types

import pytest

from rsx.testing.cli import explain, runs

#: trainer.batch_size=100000 exceeds the 6,400 training rows: the job fails after its run started.
FAILING = "trainer.batch_size=100000"


def _sweep_args(one_epoch):
    small = [o for o in one_epoch if not o.startswith("trainer.batch_size=")]
    return ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "trainer.batch_size=64,100000", *small]


def _split(all_runs):
    parents = [r for r in all_runs if r.data.tags.get("rsx.role") == "sweep"]
    children = [r for r in all_runs if r.data.tags.get("rsx.role") != "sweep"]
    return parents, children


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory, run_sweep, one_epoch):
    workdir = tmp_path_factory.mktemp("failing_sweep")
    first = run_sweep(_sweep_args(one_epoch), workdir)
    after_first = runs(workdir)
    second = run_sweep(_sweep_args(one_epoch), workdir)
    after_second = runs(workdir)
    return types.SimpleNamespace(workdir=workdir, first=first, second=second,
                                 after_first=after_first, after_second=after_second)


def _child(children, failing: bool):
    (run,) = [r for r in children if (FAILING in r.data.tags["rsx.overrides"].split()) == failing]
    return run


def test_failed_job_fails_alone_and_the_sweep_goes_on(sweeps):
    assert sweeps.first.returncode == 1, explain(sweeps.first)
    parents, children = _split(sweeps.after_first)
    assert len(parents) == 1 and len(children) == 2
    failed, finished = _child(children, True), _child(children, False)
    assert failed.info.status == "FAILED"
    assert "exceeds" in failed.data.tags["failure"]
    assert finished.info.status == "FINISHED"
    assert "test_rmse" in finished.data.metrics


def test_summary_names_the_failed_job_and_why(sweeps):
    out = sweeps.first.stdout
    assert "rsx sweep: 2 jobs: 1 finished, 1 failed, 0 skipped" in out
    lines = out.splitlines()
    failed_line = next(i for i, l in enumerate(lines) if "FAILED" in l and FAILING in l)
    assert "exceeds" in lines[failed_line + 1]
    assert any("FINISHED" in l and "test_rmse=" in l and "trainer.batch_size=64" in l for l in lines)


def test_parent_fails_and_lists_the_failed_job(sweeps):
    (parent,), children = _split(sweeps.after_first)
    assert parent.info.status == "FAILED"
    failed = _child(children, True)
    assert parent.data.tags["rsx.failed_jobs"] == f"job {failed.data.tags['rsx.job_num']}: {FAILING}"
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}


def test_rerun_skips_the_finished_job_and_reruns_the_failed_one(sweeps):
    assert sweeps.second.returncode == 1, explain(sweeps.second)
    assert "rsx sweep: 2 jobs: 0 finished, 1 failed, 1 skipped" in sweeps.second.stdout
    old_ids = {r.info.run_id for r in sweeps.after_first}
    new = [r for r in sweeps.after_second if r.info.run_id not in old_ids]
    parents, children = _split(new)
    assert len(parents) == 1, "the second sweep has its own parent run"
    (rerun,) = children  # Only the job that failed ran again.
    assert FAILING in rerun.data.tags["rsx.overrides"].split()
    assert rerun.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
    finished = _child(_split(sweeps.after_first)[1], False)
    assert parents[0].data.tags["rsx.skipped_runs"] == finished.info.run_id
    assert f"identical job already finished as run {finished.info.run_id}" in sweeps.second.stdout
