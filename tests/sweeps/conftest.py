"""Helpers for sweep tests: a real MLflow server, and sweeps run in a probed fresh process.

Every sweep runs as `python -m rsx ...` would, in its own process; the probe module records
which frameworks that orchestrating process had imported when it ended, which is how the
tests prove the orchestrator never imports Keras, TensorFlow or JAX.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rsx.testing.cli import SMALL_RUN, run_rsx

#: SMALL_RUN with one epoch: sweeps here test the mechanism, not the models.
ONE_EPOCH = tuple(o for o in SMALL_RUN if not o.startswith("trainer.epochs=")) + ("trainer.epochs=1",)

FRAMEWORKS = ("keras", "tensorflow", "jax", "jaxlib", "torch")
PROBE = "rsx_orchestrator_probe"
MODULES_FILE = "orchestrator_modules.json"

_PROBE_SOURCE = f'''
"""`python -m rsx`, then a record of the frameworks this (orchestrating) process imported."""
import json
import sys

try:
    from rsx.app import main

    main()
finally:
    loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({FRAMEWORKS!r}))
    with open({MODULES_FILE!r}, "w") as f:
        json.dump(loaded, f)
'''


def _run_sweep(overrides, workdir: Path, timeout: float = 600, sigint: str | None = None) -> subprocess.CompletedProcess:
    """Runs `python -m rsx <overrides>` through the probe in `workdir` (MLflow in workdir/mlflow.db
    unless the overrides name another tracking.uri); `sigint` as `rsx.testing.cli.run_rsx`."""
    workdir = Path(workdir)
    (workdir / f"{PROBE}.py").write_text(_PROBE_SOURCE)
    return run_rsx(list(overrides), workdir, timeout=timeout, module=PROBE, sigint=sigint)


def _orchestrator_frameworks(workdir: Path) -> list[str]:
    """Frameworks the last probed process had imported by its end."""
    return json.loads((Path(workdir) / MODULES_FILE).read_text())


@pytest.fixture(scope="session")
def run_sweep():
    """`run_sweep(overrides, workdir)`: a probed `python -m rsx` (see the module docstring)."""
    return _run_sweep


@pytest.fixture(scope="session")
def orchestrator_frameworks():
    """`orchestrator_frameworks(workdir)`: frameworks the last probed process had imported."""
    return _orchestrator_frameworks


@pytest.fixture(scope="session")
def one_epoch():
    return ONE_EPOCH


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` on 127.0.0.1 with an SQLite store; yields its URL."""
    root = tmp_path_factory.mktemp("mlflow_server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    log = open(root / "server.log", "w")
    server = subprocess.Popen(
        [
            str(mlflow_cli), "server",
            "--backend-store-uri", f"sqlite:///{root}/server.db",
            "--artifacts-destination", str(root / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not come up:\n{(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        # The server runs workers in its own process group: stop them all, within bounds.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
