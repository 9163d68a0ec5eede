"""The device check's runs: ranking and two_tower on jax_dataparallel, read back from MLflow.

    python benchmarks/device_check.py --mode gpu|cpu [--budget-seconds 420]

Run by `benchmarks/device_check.sh` (which installs rsx first on a GPU machine). Each case is
a real `python -m rsx ...` run (MLflow on, in a scratch directory) on data that needs no
download (synthetic); its numbers are read back from MLflow:

- `ranking_seed`: `experiment=seed_ranking` on synthetic data shaped like MovieLens 100k.
- `ranking_large_batch`: `experiment=ranking_large_batch` (the GPU recipe) on a bigger
  synthetic set (MovieLens-20M-shaped on a GPU; 2M rows in CPU mode, so it fits a laptop).
- `two_tower_mse`: `experiment=seed_retrieval` (MSE) on the MovieLens-100k-shaped data.
- `two_tower_softmax`: the same with `model.loss=softmax` (in-batch softmax), skipped with
  the reason when this rsx has no such key.

Every case has its own timeout, cut to what is left of `--budget-seconds`, and the JSON is
rewritten after each one, so a stopped check still leaves what it measured. In gpu mode
the JSON also compares each case with the same case of `device_check_cpu.json` (same
overrides only): throughput ratio and the relative difference of its main metric.
Writes `benchmarks/results/device_check_<mode>.json`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import DATA, HERE, try_rsx, write_results

#: Synthetic data shaped like MovieLens 20M (138,493 users, 26,744 movies, 20M ratings).
LARGE_DATA = ["data=synthetic", "data.num_users=138493", "data.num_items=26744", "data.num_interactions=20000000"]
#: In CPU mode: a tenth of the users and items, 1M rows (a 2-core CPU takes minutes for 5 epochs).
LARGE_DATA_CPU = ["data=synthetic", "data.num_users=13849", "data.num_items=2674", "data.num_interactions=1000000"]
BACKEND = ["backend=jax_dataparallel"]
REQUIRE_GPU = "backend.require_accelerator=true"
#: Final metrics that say how good each model is (first one found is compared across devices).
MAIN_METRICS = ("test_rmse", "test_recall_at_10", "test_loss")
PACKAGES = ("rsx", "jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda13-plugin", "keras", "keras-rs", "tensorflow",
            "tensorflow-cpu", "mlflow", "numpy")


def cases(mode: str) -> list[dict]:
    """What runs, in order, with each case's time cap in seconds."""
    large = LARGE_DATA if mode == "gpu" else LARGE_DATA_CPU
    # On the GPU machine a run that finds no GPU fails at once instead of measuring the CPU.
    backend = [*BACKEND, *([REQUIRE_GPU] if mode == "gpu" else [])]
    return [
        {"name": "ranking_seed", "overrides": ["experiment=seed_ranking", *backend, *DATA], "cap": 100},
        {"name": "ranking_large_batch", "overrides": ["experiment=ranking_large_batch", *backend, *large], "cap": 160},
        {"name": "two_tower_mse", "overrides": ["experiment=seed_retrieval", *backend, *DATA], "cap": 100},
        {"name": "two_tower_softmax", "overrides": ["experiment=seed_retrieval", *backend, *DATA, "model.loss=softmax"],
         "cap": 100, "needs_key": "model.loss"},
    ]


def unknown_key(overrides: list[str]) -> str:
    """Why these overrides do not compose in this rsx (e.g. a key it lacks), or ""."""
    from rsx.testing.compose import compose_config

    try:
        compose_config([*overrides, "tracking.uri=sqlite:///unused.db"])
    except Exception as error:  # noqa: BLE001 - any reason not to run is reported, not raised
        return " ".join(str(error).split())[:300]
    return ""


def history(workdir: Path, run, key: str) -> list[float]:
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{workdir}/mlflow.db")
    return [m.value for m in sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)]


def measured(workdir: Path, run) -> dict:
    """Throughput, step time, device and final metrics of a finished run."""
    tags, metrics = run.data.tags, run.data.metrics
    speeds = history(workdir, run, "examples_per_second")
    later = speeds[1:] or speeds  # epoch 1 includes compilation
    global_batch = int(tags["global_batch_size"])
    median = statistics.median(later)
    return {
        "examples_per_second": median,
        "examples_per_second_best": max(later),
        "examples_per_second_epoch_1": speeds[0],
        "step_seconds": global_batch / median,
        "epoch_seconds": history(workdir, run, "epoch_seconds"),
        "global_batch_size": global_batch,
        "epochs": len(speeds),
        "device": {k: tags.get(k) for k in ("device_kind", "device_model", "device_count", "device_memory_gib",
                                            "keras_backend", "replicas", "dtype_policy")},
        "test_metrics": {k: v for k, v in sorted(metrics.items()) if k.startswith(("test_", "baseline_test_"))},
        "run_id": run.info.run_id,
    }


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    try:
        found["git_commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True,
                                             timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return found


def gpus() -> list[str]:
    """nvidia-smi's one line per GPU (name, driver, memory), or [] without one."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []


def compare_with_cpu(results: dict) -> dict:
    """{case: GPU/CPU throughput ratio and main-metric difference} for cases run alike on both."""
    path = HERE / "results" / "device_check_cpu.json"
    if not path.exists():
        return {}
    cpu = {c["name"]: c for c in json.loads(path.read_text())["cases"]}
    compared = {}
    for case in results["cases"]:
        other = cpu.get(case["name"])
        if case.get("status") != "finished" or not other or other.get("status") != "finished":
            continue
        if other["overrides"] != [o for o in case["overrides"] if o != REQUIRE_GPU]:
            compared[case["name"]] = "not comparable: the CPU mode ran other overrides (sizes)"
            continue
        metric = next((m for m in MAIN_METRICS if m in case["test_metrics"] and m in other["test_metrics"]), None)
        row = {"speedup_vs_cpu": case["examples_per_second"] / other["examples_per_second"],
               "cpu_examples_per_second": other["examples_per_second"]}
        if metric:
            gpu_value, cpu_value = case["test_metrics"][metric], other["test_metrics"][metric]
            row.update({"metric": metric, "gpu": gpu_value, "cpu": cpu_value,
                        "relative_difference": abs(gpu_value - cpu_value) / abs(cpu_value) if cpu_value else None})
        compared[case["name"]] = row
    return compared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("gpu", "cpu"), required=True)
    parser.add_argument("--budget-seconds", type=float, default=420, help="all cases together")
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--cap-factor", type=float, default=1.0,
                        help="scale every case's time cap (a slow or shared CPU: the budget still bounds the total)")
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget_seconds

    results = {"mode": args.mode, "gpus": gpus(), "versions": versions(), "cpu_count": os.cpu_count(),
               # A shared machine's load slows every case: say how loaded it was.
               "load_average_at_start": os.getloadavg(), "cases": []}
    with tempfile.TemporaryDirectory(prefix=f"rsx-device-check-{args.mode}-") as tmp:
        workdir = Path(tmp)
        for case in cases(args.mode):
            if args.only and case["name"] not in args.only:
                continue
            row = {"name": case["name"], "overrides": case["overrides"]}
            left = deadline - time.monotonic()
            why_not = unknown_key(case["overrides"]) if case.get("needs_key") else ""
            if why_not:
                row.update(status="skipped", reason=f"{case['needs_key']} is not a key of this rsx: {why_not}")
            elif left < 30:
                row.update(status="skipped", reason=f"only {left:.0f} s of the budget left")
            else:
                start = time.monotonic()
                run, failure = try_rsx(workdir, case["overrides"], experiment="device_check", timeout=min(case["cap"] * args.cap_factor, left))
                row["wall_seconds"] = time.monotonic() - start
                if run is None:
                    row.update(status="failed", error=failure)
                else:
                    row.update(status="finished", **measured(workdir, run))
            print(f"{row['name']:<22} {row['status']:<9} " + (
                f"{row['examples_per_second']:>13,.0f} examples/s  step {row['step_seconds'] * 1e3:.3f} ms  "
                f"{row['test_metrics']}" if row["status"] == "finished" else row.get("reason") or row.get("error", "")[-500:]),
                flush=True)
            row["load_average_after"] = os.getloadavg()
            results["cases"].append(row)
            if args.mode == "gpu":
                results["compared_with_cpu"] = compare_with_cpu(results)
            write_results(f"device_check_{args.mode}", results)


if __name__ == "__main__":
    main()
