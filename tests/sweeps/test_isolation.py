"""Jobs train in a fresh worker process; `trainer.isolate=false` trains in the launching one.

The multirun case (two Keras backends in one sweep, an orchestrator without any framework) is
proven in test_backend_sweep.py; here: single runs, the job file, and a worker that dies. (A
worker's error and exit code reaching the user is what tests/reliability checks, through it.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf, open_dict

from rsx.app import register_everything
from rsx.discovery import discover
from rsx.testing.cli import SIGINT_DISPOSITIONS, explain, runs, with_sigint
from rsx.job_files import load_job_file, write_job_file
from rsx.paths import JOB_FILE, PID_FILE, RESULT_FILE, JobFiles


def test_in_process_run_imports_keras_where_it_was_launched(tmp_path, run_sweep, one_epoch, orchestrator_frameworks):
    # Also shows that the probe would notice a framework in the orchestrating process.
    result = run_sweep(["trainer.isolate=false", *one_epoch], tmp_path)
    assert result.returncode == 0, explain(result)
    assert {"keras", "tensorflow"} <= set(orchestrator_frameworks(tmp_path))
    (run,) = runs(tmp_path)
    assert run.info.status == "FINISHED" and run.data.tags["keras_backend"] == "tensorflow"
    assert not list(tmp_path.glob(f"outputs/*/*/{JOB_FILE}")), "no worker was started"


_DIE_AFTER_RUN_START = """
import os, signal
import rsx.tracking

_start = rsx.tracking.MlflowTracker.start

def start(self, *args, **kwargs):
    run_id = _start(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # Dies like an out-of-memory kill: no word, no cleanup.

rsx.tracking.MlflowTracker.start = start
"""


@pytest.mark.parametrize("sigint", SIGINT_DISPOSITIONS)
def test_a_worker_killed_mid_run_ends_its_run_killed(tmp_path, run_sweep, one_epoch, monkeypatch, orchestrator_frameworks, sigint):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_DIE_AFTER_RUN_START)
    monkeypatch.setenv("PYTHONPATH", str(hooks))  # run_rsx passes our environment on.
    result = run_sweep(list(one_epoch), tmp_path, sigint=sigint)
    assert result.returncode == 128 + signal.SIGKILL, explain(result)
    assert orchestrator_frameworks(tmp_path) == []
    (run,) = runs(tmp_path)
    assert run.info.status == "KILLED"
    assert "died" in run.data.tags["failure"]
    (result_file,) = tmp_path.glob(f"outputs/*/*/{RESULT_FILE}")
    recorded = json.loads(result_file.read_text())
    assert recorded["status"] == "KILLED" and recorded["run_id"] == run.info.run_id


def _training_launcher(tmp_path, one_epoch, sigint: str) -> subprocess.Popen:
    """`python -m rsx` training for long, started with SIGINT as `sigint` says, once its
    worker is in epoch 2 (so epoch 1's checkpoint exists)."""
    overrides = [o for o in one_epoch if not o.startswith(("trainer.epochs=", "trainer.verbose="))]
    env = {**os.environ, "RSX_HOME": str(tmp_path)}
    env.pop("KERAS_BACKEND", None)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "rsx", *overrides, "trainer.epochs=1000", "trainer.verbose=2"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=with_sigint(sigint),
    )
    deadline = time.monotonic() + 180
    for line in launcher.stdout:  # The worker's output, streamed by the launcher.
        if line.startswith("Epoch 2/") or time.monotonic() > deadline:
            break
    assert launcher.poll() is None, "the job must still be training"
    return launcher


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # A zombie has ended.
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(
    "stop, sigint",
    [("KILL", "foreground"), ("KILL", "background"), ("TERM", "background"), ("INT", "background")],
)
def test_a_stopped_launcher_stops_its_worker_and_its_run_ends_killed(tmp_path, one_epoch, stop, sigint):
    """SIGKILL cannot be forwarded: the worker notices it lost its launcher (the kernel's
    parent-death signal, or polling) and stops itself. SIGTERM and SIGINT are forwarded. Each
    works whatever the processes inherited: a background command starts with SIGINT ignored."""
    launcher = _training_launcher(tmp_path, one_epoch, sigint)
    (job_dir,) = {p.parent for p in tmp_path.glob(f"outputs/*/*/{PID_FILE}")}
    worker = int((job_dir / PID_FILE).read_text().split()[0])
    signum = getattr(signal, f"SIG{stop}")
    try:
        launcher.send_signal(signum)
        code = launcher.wait(timeout=90)
    finally:
        launcher.kill()
        launcher.stdout.close()
    assert code == (-signum if stop == "KILL" else 128 + signum)
    deadline = time.monotonic() + 60
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _alive(worker), "no process is left behind"
    (run,) = runs(tmp_path)
    assert run.info.status == "KILLED", "resumable, not FAILED by a broken output pipe nor left RUNNING"
    assert run.data.metrics["loss"] > 0 and run.data.metrics.get("epoch_seconds")
    assert (tmp_path / "checkpoints" / run.data.tags["rsx.job_key"] / "state.json").exists()
    assert json.loads((job_dir / RESULT_FILE).read_text())["status"] == "KILLED"


def test_isolate_false_is_refused_in_a_multirun(tmp_path, run_sweep, one_epoch):
    result = run_sweep(["-m", "trainer.isolate=false", "trainer.seed=1,2", *one_epoch], tmp_path)
    assert result.returncode == 2, explain(result)
    assert "rsx: error: trainer.isolate=false cannot be used in a multirun" in result.stderr
    assert runs(tmp_path) == [], "nothing started"


@pytest.fixture(scope="module")
def composed():
    register_everything(discover())
    with initialize_config_module("rsx.conf", version_base="1.3"):
        cfg = compose("config", overrides=["backend=cpu_reference", "model=ranking", "data=synthetic",
                                           "model.hidden_units=[32,16]"], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # Resolves ${hydra:runtime.cwd} in tracking.uri.
    job = cfg.copy()
    with open_dict(job):
        del job["hydra"]
    return job


def test_job_file_gives_the_worker_the_same_typed_config(tmp_path, composed):
    write_job_file(composed, ["model.hidden_units=[32,16]"], JobFiles.of(tmp_path), {"job_num": 3})
    cfg, document = load_job_file(tmp_path / JOB_FILE)
    assert OmegaConf.to_container(cfg) == OmegaConf.to_container(composed, resolve=True)
    assert cfg.tracking.uri.startswith("sqlite:////"), "resolved where ${hydra:...} is known"
    for section in ("backend", "model", "data", "trainer", "tracking"):
        assert OmegaConf.get_type(cfg[section]) is OmegaConf.get_type(composed[section]), section
    assert OmegaConf.get_type(cfg.model.optimizer).__name__ == "OptimizerConfig"
    with pytest.raises(Exception, match="trainer.epoch"):
        cfg.trainer.epoch = 3  # Typo of epochs: the schema still rejects unknown keys.
    assert document["overrides"] == ["model.hidden_units=[32,16]"]
    assert document["context"] == {"job_num": 3}


def test_worker_output_is_prefixed_line_by_line_across_chunks():
    from rsx.launch import _prefixed

    out, at_start = _prefixed(b"Epoch 1/2\nloss: 0.3", b"[job 3] ", True)
    assert out == b"[job 3] Epoch 1/2\n[job 3] loss: 0.3" and not at_start
    out, at_start = _prefixed(b"1 - done\n\nEpoch 2/2\n", b"[job 3] ", at_start)
    assert out == b"1 - done\n\n[job 3] Epoch 2/2\n" and at_start  # A line split across chunks gets one prefix.
