"""What running every job in a fresh process costs, and what a parallel launcher saves.

All runs go through the real CLI (`python -m rsx ...`, MLflow on, SQLite store) on tiny
synthetic data for one epoch, so training is short and the overheads show:

- single run, `trainer.isolate=false` (trains in the process Hydra runs in) vs the default
  (trains in a fresh `python -m rsx.worker` process): the difference is the extra process;
- a sweep of N jobs (`trainer.seed=1..N`) with the basic launcher: wall time per job, and the
  share of it outside the jobs' MLflow runs (process starts, imports, Hydra, the parent run);
- the same sweep with hydra-joblib-launcher, 2 jobs at a time.

    python benchmarks/sweep_overhead.py [--jobs 4] [--repeats 2]

Prints a table and writes benchmarks/results/sweep_overhead.json. On a shared machine the
numbers move with the load: compare rows of one invocation, not across invocations.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMALL = [
    "data=synthetic", "data.num_users=200", "data.num_items=100", "data.num_interactions=8000",
    "trainer.epochs=1", "trainer.batch_size=64", "trainer.verbose=0",
]


def rsx(overrides: list[str], workdir: Path) -> float:
    """Runs `python -m rsx <overrides>` in `workdir`; returns its wall time in seconds."""
    env = {**os.environ, "RSX_HOME": str(workdir)}
    env.pop("KERAS_BACKEND", None)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "rsx", *overrides], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"rsx failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return seconds


def run_seconds(workdir: Path) -> list[float]:
    """Durations of the job runs (not sweep parents) recorded in workdir/mlflow.db."""
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{workdir}/mlflow.db")
    experiment = client.get_experiment_by_name("rsx")
    runs = client.search_runs([experiment.experiment_id])
    return [(r.info.end_time - r.info.start_time) / 1000 for r in runs if r.data.tags.get("rsx.role") != "sweep"]


def measure(jobs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("warm", "inproc", "isolated", "basic", "joblib"):
            (root / name).mkdir()
        rsx(SMALL, root / "warm")  # Warms the OS file cache; not counted.
        seeds = "trainer.seed=" + ",".join(str(i) for i in range(1, jobs + 1))
        out = {
            "single_in_process_s": rsx(["trainer.isolate=false", *SMALL], root / "inproc"),
            "single_isolated_s": rsx(SMALL, root / "isolated"),
        }
        out["sweep_basic_s"] = rsx(["-m", seeds, *SMALL], root / "basic")
        inside = run_seconds(root / "basic")
        out["sweep_basic_per_job_s"] = out["sweep_basic_s"] / jobs
        out["sweep_basic_outside_runs_per_job_s"] = (out["sweep_basic_s"] - sum(inside)) / jobs
        out["sweep_joblib2_s"] = rsx(["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", seeds, *SMALL], root / "joblib")
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    samples = [measure(args.jobs) for _ in range(args.repeats)]
    medians = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
    medians["isolation_cost_s"] = medians["single_isolated_s"] - medians["single_in_process_s"]
    medians["joblib2_speedup"] = medians["sweep_basic_s"] / medians["sweep_joblib2_s"]

    print(f"ranking on cpu_reference (tensorflow), 1 epoch of 6,400 rows; {args.jobs}-job sweeps; "
          f"median of {args.repeats}; {os.cpu_count()} cores")
    for key, value in medians.items():
        print(f"  {key:<36} {value:8.2f}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "sweep_overhead.json").write_text(json.dumps(
        {"jobs": args.jobs, "repeats": args.repeats, "cpu_count": os.cpu_count(), "median": medians, "samples": samples},
        indent=2))


if __name__ == "__main__":
    main()
