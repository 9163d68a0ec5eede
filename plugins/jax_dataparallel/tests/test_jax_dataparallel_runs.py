"""jax_dataparallel through the CLI: the conformance suite, a 2-device two_tower run, the same
training as cpu_reference, 2 processes training like 1, and one clear line for bad set-ups."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import mlflow
import pytest

from rsx.testing.cli import SMALL_RUN, explain, metric_history, run_rsx, runs, tracking_uri
from rsx.testing.conformance import BackendConformance, assert_realizes_every_feature_kind

TWO_TOWER = ["model=two_tower", *SMALL_RUN, "trainer.global_batch_size=128"]
#: Metrics that must agree between runs that train the same model on the same batches.
COMPARED = ("loss", "val_loss", "test_loss", "test_recall_at_10", "test_ndcg_at_10")
#: Relative tolerance between such runs: the same computation, up to the order in which
#: XLA sums over devices (observed: equal to 4 decimals).
RTOL = 1e-3


class TestJaxDataParallelConformance(BackendConformance):
    backend = "jax_dataparallel"
    # The global batch of the other backends (64 on one device), so every model takes as many
    # steps here as there.
    overrides = ("backend.cpu_devices=2", "trainer.global_batch_size=64")


def test_sharded_tables_realize_every_feature_kind(tmp_path):
    assert_realizes_every_feature_kind(
        "jax_dataparallel", ("backend.cpu_devices=2", "backend.shard_tables=true"), tmp_path
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_error_line(result) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("rsx: error:")]
    assert len(errors) == 1, explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    return errors[0]


@pytest.fixture(scope="module")
def two_devices(tmp_path_factory):
    """One two_tower run on 2 virtual devices in one process: (workdir, MLflow run)."""
    workdir = tmp_path_factory.mktemp("two_devices")
    result = run_rsx(["backend=jax_dataparallel", "backend.cpu_devices=2", *TWO_TOWER], workdir)
    assert result.returncode == 0, explain(result)
    (run,) = runs(workdir)
    return workdir, run


def test_two_tower_trains_on_two_devices_and_logs_retrieval(two_devices):
    workdir, run = two_devices
    tags = run.data.tags
    assert (tags["device_count"], tags["replicas"], tags["process_count"]) == ("2", "2", "1")
    assert (tags["keras_backend"], tags["distribution"], tags["global_batch_size"]) == ("jax", "DataParallel", "128")
    metrics = run.data.metrics
    for key in ("val_loss", "test_loss", "test_recall_at_10", "test_ndcg_at_10"):
        assert key in metrics, sorted(metrics)
    assert 0 < metrics["test_recall_at_10"] <= 1 and 0 < metrics["test_ndcg_at_10"] <= 1
    client = mlflow.MlflowClient(tracking_uri(workdir))
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"top_10.txt", "top_10.json"} <= artifacts
    top = json.loads(open(client.download_artifacts(run.info.run_id, "top_10.json", str(workdir))).read())
    assert [u["user_id"] for u in top["users"]] == [1, 2, 3, 4, 5]
    assert all(len(u["top"]) == 10 and u["top"][0]["title"].startswith("item ") for u in top["users"])


def test_same_training_as_cpu_reference_on_jax(two_devices, tmp_path):
    _, parallel = two_devices
    result = run_rsx(["backend=cpu_reference", "backend.keras_backend=jax", *TWO_TOWER], tmp_path)
    assert result.returncode == 0, explain(result)
    (single,) = runs(tmp_path)
    assert single.data.tags["global_batch_size"] == parallel.data.tags["global_batch_size"]
    for key in COMPARED:
        assert parallel.data.metrics[key] == pytest.approx(single.data.metrics[key], rel=RTOL), key


def test_two_processes_train_like_one_process_on_the_same_global_batch(two_devices, tmp_path):
    workdir, single = two_devices
    address = f"127.0.0.1:{_free_port()}"
    common = ["backend=jax_dataparallel", "backend.cpu_devices=1", "backend.num_processes=2",
              f"backend.coordinator_address={address}", "backend.coordinator_timeout_seconds=60", *TWO_TOWER]
    env = {**os.environ, "RSX_HOME": str(tmp_path)}
    env.pop("KERAS_BACKEND", None)
    processes = [
        subprocess.Popen(
            # Each process gets its own Hydra output directory (its job file lives there).
            [sys.executable, "-m", "rsx", *common, f"backend.process_id={index}", f"hydra.run.dir=outputs/p{index}"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )
        for index in (0, 1)
    ]
    deadline = time.monotonic() + 300
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=max(deadline - time.monotonic(), 1)))
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-4000:]

    (run,) = runs(tmp_path)  # only process 0 records a run
    tags = run.data.tags
    assert (tags["process_count"], tags["process_index"], tags["device_count"], tags["replicas"]) == ("2", "0", "2", "2")
    assert tags["global_batch_size"] == single.data.tags["global_batch_size"]
    for key in COMPARED:
        assert run.data.metrics[key] == pytest.approx(single.data.metrics[key], rel=RTOL), key
    losses = [m.value for m in sorted(metric_history(tmp_path, run.info.run_id, "loss"), key=lambda m: m.step)]
    reference = [m.value for m in sorted(metric_history(workdir, single.info.run_id, "loss"), key=lambda m: m.step)]
    assert losses == pytest.approx(reference, rel=RTOL)


def test_unreachable_coordinator_is_one_line_after_a_bounded_wait(tmp_path):
    address = f"127.0.0.1:{_free_port()}"
    start = time.monotonic()
    result = run_rsx(["backend=jax_dataparallel", "backend.cpu_devices=1", "backend.num_processes=2",
                      "backend.process_id=1", f"backend.coordinator_address={address}",
                      "backend.coordinator_timeout_seconds=2", *TWO_TOWER], tmp_path, timeout=120)
    assert result.returncode == 2, explain(result)
    line = _one_error_line(result)
    assert f"cannot reach the coordinator at backend.coordinator_address={address} within 2 s" in line
    assert time.monotonic() - start < 90
    assert runs(tmp_path) == []  # process 1 never records a run


def test_global_batch_that_does_not_divide_over_the_devices_is_one_line(tmp_path):
    result = run_rsx(["backend=jax_dataparallel", "backend.cpu_devices=2", *TWO_TOWER,
                      "trainer.global_batch_size=101"], tmp_path)
    assert result.returncode == 2, explain(result)
    line = _one_error_line(result)
    assert "trainer.global_batch_size=101 does not divide evenly over the backend's 2 replicas" in line
    (run,) = runs(tmp_path)
    assert run.info.status == "FAILED"
