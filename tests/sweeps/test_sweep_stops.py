"""A sweep's orchestrator stopped by SIGTERM (what `scancel` and most schedulers send) or SIGINT.

Every running worker stops with its run KILLED (resumable), no new job starts, the parent run
ends KILLED with the summary printed and recorded, the sweep exits 128 + the signal, and no
process is left behind (the joblib launcher's loky processes included). It holds whether the
signal reaches the orchestrator alone or its whole process group, and when the sweep was
started with SIGINT ignored (a background command of a script). While the sweep runs, a
second sweep given the same `hydra.sweep.dir` is refused in one line.

A stop can land anywhere in a job, so each place that can leave a run RUNNING is pinned by a
fast test: a stop just after the run is created (`rsx.job`), inside its creation (the worker
ends it), and launchers killed with their workers (the sweep's end ends their runs).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from rsx.paths import RESULT_FILE
from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs, with_sigint

SMALL = ("data=synthetic", "data.num_users=200", "data.num_items=100", "data.num_interactions=8000",
         "trainer.batch_size=64", "trainer.verbose=2")
LAUNCHERS = {"basic": (), "joblib": ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")}
SWEEP_DIR = "multirun/shared"


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(
    "launcher, stop, to_group",
    # SIGTERM to the orchestrator alone; Ctrl-C's SIGINT to the whole process group.
    [("basic", "TERM", False), ("joblib", "INT", True)],
)
def test_a_stopped_sweep_ends_its_runs_killed_and_leaves_no_process(tmp_path, launcher, stop, to_group):
    env = {**os.environ, "RSX_HOME": str(tmp_path)}
    env.pop("KERAS_BACKEND", None)
    sweep = subprocess.Popen(
        [sys.executable, "-m", "rsx", "-m", *LAUNCHERS[launcher], *SMALL, f"hydra.sweep.dir={SWEEP_DIR}",
         "trainer.epochs=1000", "trainer.seed=1,2,3"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=with_sigint("background"), start_new_session=True,
    )
    signum = getattr(signal, f"SIG{stop}")
    try:
        deadline = time.monotonic() + 240
        for line in sweep.stdout:
            if "Epoch 1/" in line or time.monotonic() > deadline:  # A job's run is training.
                break
        assert sweep.poll() is None, "the sweep must still be training"
        processes = _descendants(sweep.pid)

        second = run_rsx(["-m", *SMALL, f"hydra.sweep.dir={SWEEP_DIR}", "trainer.epochs=1", "trainer.seed=7,8"],
                         tmp_path, timeout=120)
        assert second.returncode == 2, explain(second)
        assert second.stderr.strip().splitlines() == [
            l for l in second.stderr.strip().splitlines() if "is in use by another rsx sweep" in l
        ], explain(second)

        os.killpg(sweep.pid, signum) if to_group else sweep.send_signal(signum)
        out = sweep.stdout.read()
        code = sweep.wait(timeout=120)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
        sweep.stdout.close()
    assert code == 128 + signum, out[-3000:]
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not [p for p in processes if _alive(p)], "no process is left behind"

    all_runs = runs(tmp_path)
    (parent,) = [r for r in all_runs if r.data.tags.get("rsx.role") == "sweep"]
    children = [r for r in all_runs if r.data.tags.get("rsx.role") != "sweep"]
    assert parent.info.status == "KILLED"
    assert children and {r.info.status for r in children} == {"KILLED"}, "resumable, none left RUNNING"
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}
    assert f"stopped (SIG{stop})" in parent.data.tags["rsx.sweep_error"]
    results = [json.loads(p.read_text()) for p in (tmp_path / SWEEP_DIR).rglob(RESULT_FILE)]
    assert results and {r["status"] for r in results} == {"KILLED"}
    killed = len(results)
    never = f"; {3 - killed} of 3 planned never started" if killed < 3 else ""
    assert f"rsx sweep: {killed} jobs: 0 finished, 0 failed, 0 skipped, {killed} killed{never}\n" in out, out[-3000:]
    assert parent.data.tags["rsx.jobs_planned"] == "3"
    assert "sweep_summary.txt" in {p.name for p in (tmp_path / SWEEP_DIR).iterdir()}


def test_a_stop_the_moment_a_jobs_run_is_created_ends_it_killed(tmp_path):
    """Ctrl-C to a process group reaches a worker wherever it is, e.g. just after MLflow
    created its run: that run ends KILLED too, not RUNNING under a line that says KILLED
    (`rsx.testing.faults.signal_at`; the job stops before it imports Keras, in-process to
    save a process start: `rsx.job` is what starts and ends the run either way)."""
    overrides = ["model=ranking", *SMALL_RUN, "trainer.isolate=false"]
    stopped = run_rsx(overrides, tmp_path, env={"RSX_FAULT_SIGNAL_AT": "run_created:INT"})
    assert stopped.returncode == 128 + signal.SIGINT, explain(stopped)
    (run,) = runs(tmp_path)
    assert run.info.status == "KILLED", explain(stopped)
    assert "stopped by SIGINT" in stopped.stderr, explain(stopped)


def test_a_sweeps_end_ends_the_runs_its_dead_jobs_left_running(tmp_path):
    """The joblib launcher, stopped, SIGKILLs its processes with their workers, maybe before a
    launcher recorded its worker's end: the sweep, last to see its jobs, ends KILLED every child
    run left RUNNING by a process that is gone (a zombie too), writes the result its job never
    got, and leaves a live job's run and a finished one alone."""
    from omegaconf import OmegaConf

    from rsx.job_files import process_start_time
    from rsx.sweep import SweepCallback, SweepInfo, collect_results
    from rsx.testing.cli import tracking_uri
    from rsx.tracking import MlflowTracker

    sweep = SweepInfo(id="s1", dir=str(tmp_path / "sweep"), swept=["trainer.seed"], started=time.time())
    parent = MlflowTracker(tracking_uri(tmp_path), "rsx")
    sweep.run_id = parent.start("sweep", {"rsx.role": "sweep"})
    host = socket.gethostname()
    dead = subprocess.Popen(["sleep", "60"])
    dead.kill()  # Never waited for: a zombie, as a SIGKILLed worker whose parent died with it.
    live = subprocess.Popen(["sleep", "60"])
    try:
        ids = {}
        for name, process, status in (("dead", dead, None), ("live", live, None), ("done", dead, "FINISHED")):
            output_dir = tmp_path / "sweep" / name
            output_dir.mkdir(parents=True)
            context = {"sweep_id": "s1", "job_num": len(ids), "name": name}
            OmegaConf.save({"context": context}, output_dir / "rsx_job.yaml")
            child = MlflowTracker(tracking_uri(tmp_path), "rsx")
            ids[name] = child.start(name, {
                "mlflow.parentRunId": sweep.run_id, "output_dir": str(output_dir),
                "rsx.process": f"{host}:{process.pid}:{process_start_time(process.pid)}",
            })
            if status:
                child.finish(status)
        callback = SweepCallback()
        callback.sweep, callback.tracker = sweep, parent
        callback._end_orphaned_jobs()
        statuses = {r.info.run_name: r.info.status for r in runs(tmp_path) if r.info.run_id != sweep.run_id}
        assert statuses == {"dead": "KILLED", "live": "RUNNING", "done": "FINISHED"}
        (result,) = collect_results(sweep)
        assert (result.status, result.run_id, result.context["name"]) == ("KILLED", ids["dead"], "dead")
    finally:
        live.kill()
        for process in (dead, live):
            process.wait()


def test_a_worker_that_did_not_finish_ends_the_run_it_created_before_knowing_its_id(tmp_path):
    """A stop acted on just after MLflow committed the run, still inside `create_run` (a signal
    that arrives during the commit's write runs its handler when the write returns), leaves
    `rsx.job` without the run's id: the worker, writing its KILLED result, ends the run it
    finds by its output directory; a FINISHED job's run is only looked up."""
    from omegaconf import OmegaConf

    from rsx.testing.cli import tracking_uri
    from rsx.tracking import MlflowTracker
    from rsx.worker import _run_id_of

    cfg = OmegaConf.create({"tracking": {"enabled": True, "uri": tracking_uri(tmp_path), "experiment": "rsx"}})
    since = time.time() - 1
    ids = {}
    for name in ("stopped", "finished"):
        ids[name] = MlflowTracker(cfg.tracking.uri, "rsx").start(name, {"output_dir": str(tmp_path / name)})
    assert _run_id_of(cfg, str(tmp_path / "stopped"), since, "KILLED") == ids["stopped"]
    assert _run_id_of(cfg, str(tmp_path / "finished"), since, "FINISHED") == ids["finished"]
    statuses = {r.info.run_name: (r.info.status, r.data.tags.get("failure")) for r in runs(tmp_path)}
    assert statuses == {"stopped": ("KILLED", "the job ended KILLED before it could end its run"), "finished": ("RUNNING", None)}
