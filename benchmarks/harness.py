"""What the rsx side of every benchmark shares: the data, one real rsx run, the results file.

Benchmarks run rsx the way a user does (`python -m rsx ...` in a fresh process, MLflow on)
and read the numbers back from MLflow, so they include everything a user pays for. The
plain-Keras yardsticks beside them stay self-contained on purpose: they must not use rsx.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

HERE = Path(__file__).resolve().parent

#: Synthetic data shaped like MovieLens 100k: 943 users, 1,682 movies, 100k ratings (80k train).
MOVIELENS_100K_SHAPE = dict(num_users=943, num_items=1682, num_interactions=100_000)
DATA = ["data=synthetic", *(f"data.{key}={value}" for key, value in MOVIELENS_100K_SHAPE.items())]


def prepared_file(workdir: Path) -> Path:
    """Writes the benchmark's data once, in rsx's cache format, for the plain scripts to read."""
    from rsx_plugins.synthetic.config import SyntheticConfig
    from rsx.data import load_prepared

    config = OmegaConf.structured(SyntheticConfig(**MOVIELENS_100K_SHAPE))
    path = workdir / "prepared.npz"
    load_prepared(config, cache_root=str(workdir / "cache")).save(path)
    return path


def run_rsx(workdir: Path, overrides: list[str], experiment: str = "benchmark"):
    """Runs `python -m rsx <overrides>` with MLflow in `workdir`; returns the finished MLflow run.

    Exits with the run's stderr tail if it fails: a benchmark of a failed run means nothing.
    """
    import mlflow

    db = f"sqlite:///{workdir}/mlflow.db"
    env = {**os.environ, "RSX_HOME": str(workdir)}
    env.pop("KERAS_BACKEND", None)  # The backend plugin decides, never the caller's shell.
    args = [*overrides, "trainer.verbose=0", f"tracking.uri={db}", f"tracking.experiment={experiment}"]
    done = subprocess.run([sys.executable, "-m", "rsx", *args], cwd=workdir, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"rsx {' '.join(overrides)} failed:\n{done.stderr[-3000:]}")
    client = mlflow.MlflowClient(db)
    return client.search_runs([client.get_experiment_by_name(experiment).experiment_id],
                              order_by=["attributes.start_time DESC"], max_results=1)[0]


def epoch_seconds(workdir: Path, run) -> list[float]:
    """The run's per-epoch training seconds, epoch 1 first."""
    import mlflow

    history = mlflow.MlflowClient(f"sqlite:///{workdir}/mlflow.db").get_metric_history(run.info.run_id, "epoch_seconds")
    return [m.value for m in sorted(history, key=lambda m: m.step)]


def write_results(name: str, results: dict) -> None:
    """Records a benchmark's numbers in benchmarks/results/<name>.json."""
    out = HERE / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
