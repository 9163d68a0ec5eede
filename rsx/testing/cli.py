"""Running rsx as a user does (a fresh `python -m rsx` process) and reading its MLflow store.

Each training job needs a process whose Keras backend was fixed by that job, so tests that
train go through here rather than calling the runner in the pytest process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

#: Overrides that make a run small enough for a test: tiny synthetic data, quiet Keras.
SMALL_RUN = (
    "data=synthetic",
    "data.num_users=200",
    "data.num_items=100",
    "data.num_interactions=8000",
    "trainer.epochs=3",
    "trainer.batch_size=64",
    "trainer.verbose=0",
)


def run_rsx(
    overrides: Sequence[str],
    workdir: Path,
    timeout: float = 300,
    env: dict[str, str] | None = None,
    module: str = "rsx",
    sigint: str | None = None,
) -> subprocess.CompletedProcess:
    """Runs `python -m rsx <overrides>` in `workdir`; MLflow goes to `workdir/mlflow.db`.

    Hydra's outputs and rsx's data cache stay inside `workdir` too. `sigint` sets the SIGINT
    disposition rsx starts with (see `SIGINT_DISPOSITIONS`); None inherits the caller's.
    """
    workdir = Path(workdir)
    full_env = {**os.environ, "RSX_HOME": str(workdir), **(env or {})}
    full_env.pop("KERAS_BACKEND", None)  # The backend plugin decides, never the caller's shell.
    return subprocess.run(
        [sys.executable, "-m", module, *overrides],
        cwd=workdir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=with_sigint(sigint),
    )


#: How rsx may find SIGINT when it starts: as from a terminal ("foreground"), or as a shell
#: starts a background command (`python -m rsx ... &` from a script, cron, `nohup`...):
#: ignored, and inherited so by every child.
SIGINT_DISPOSITIONS = ("foreground", "background")


def with_sigint(sigint: str | None):
    """A `preexec_fn` that starts the child with SIGINT as `sigint` says (None: inherited)."""
    import signal

    if sigint is None:
        return None
    if sigint not in SIGINT_DISPOSITIONS:
        raise ValueError(f"sigint must be one of {SIGINT_DISPOSITIONS}, not {sigint!r}")
    action = signal.SIG_IGN if sigint == "background" else signal.SIG_DFL
    return lambda: signal.signal(signal.SIGINT, action)


def tracking_uri(workdir: Path) -> str:
    return f"sqlite:///{Path(workdir).resolve()}/mlflow.db"


def runs(workdir: Path, experiment: str = "rsx"):
    """All MLflow runs of `experiment` in `workdir`'s store, newest first."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri(workdir))
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"])


def metric_history(workdir: Path, run_id: str, key: str):
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri(workdir))
    return client.get_metric_history(run_id, key)


def explain(result: subprocess.CompletedProcess) -> str:
    """The tail of a failed run's output, for assertion messages."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-6000:]}"
