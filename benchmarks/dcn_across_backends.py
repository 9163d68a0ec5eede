"""Does the dcn preset give the same test RMSE on every backend? Issue 11's bar: within 2 %.

    python benchmarks/dcn_across_backends.py [--data ../shared/data/ml-latest-small] [--workdir /tmp/i11]

Runs `python -m rsx experiment=latest_small_dcn backend=<b>` on cpu_reference,
jax_dataparallel (one device, and two virtual CPU devices: global batch 512, since
`trainer.batch_size` is per replica) and tf_sparsecore (its CPU fallback, `backend.tpu=off`),
one after another, MLflow in `<workdir>/mlflow.db`, and reads each run's test RMSE (stars: dcn
trains on the rating itself) back from MLflow. The ratio to Surprise's SVD++ uses the SVD++
RMSE of benchmarks/results/quality_vs_classic.json, measured on the same split (checked: the
same train/validation/test row counts and the same mean-predictor test RMSE, which depends on
every test rating and the training mean). The spread is
(max - min) / min over the backends. To tell a backend's difference from chance, cpu_reference
also runs with other seeds (`--seeds`, default 1 2): the spread over seeds (42 and those) is
what changing only the random streams (initial rows, dropout, shuffling) moves the RMSE.
Records benchmarks/results/dcn_across_backends.json.

`--issue-command` runs issue 11's check instead of the preset: `model=dcn data=movielens
data.variant=latest_small data.source=files` with dcn's defaults (every side feature, dim 16,
5 epochs, validation 10 % of the training rows, no early stopping); records
dcn_across_backends_issue_command.json.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from harness import HERE, run_rsx, write_results

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-latest-small"

BACKENDS = {
    "cpu_reference": ["backend=cpu_reference"],
    "jax_dataparallel": ["backend=jax_dataparallel"],
    # Two replicas of the per-replica batch 256: a global batch of 512, half the steps per epoch.
    "jax_dataparallel, 2 CPU devices": ["backend=jax_dataparallel", "backend.cpu_devices=2"],
    "tf_sparsecore (CPU fallback)": ["backend=tf_sparsecore", "backend.tpu=off"],
}


def svdpp_reference(run) -> float | None:
    """SVD++'s test RMSE (stars) from the quality benchmark, if it ran on this run's split.

    Not the data digest: it also covers the schema, which changes with rsx's code, not the rows.
    """
    quality = json.loads((HERE / "results" / "quality_vs_classic.json").read_text())
    rows = {split: int(run.data.tags[f"data.{split}_rows"]) for split in ("train", "validation", "test")}
    mean_predictor_rmse = run.data.metrics["baseline_test_rmse"]
    if quality["rows"] != rows or abs(quality["mean_predictor_rmse_stars"] - mean_predictor_rmse) > 1e-5:
        print(f"quality_vs_classic.json is of another split ({quality['rows']} != {rows}): no SVD++ ratio")
        return None
    return quality["results"]["Surprise SVD++"]["test_rmse_stars"]


def epochs_trained(workdir: Path, run) -> int:
    """Epochs the run trained (fewer than trainer.epochs when early stopping ended it)."""
    import mlflow

    return len(mlflow.MlflowClient(f"sqlite:///{workdir}/mlflow.db").get_metric_history(run.info.run_id, "loss"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="the ml-latest-small folder")
    parser.add_argument("--workdir", default="/tmp/i11", help="MLflow database and data cache go here")
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2], help="cpu_reference's other trainer.seed")
    parser.add_argument("--issue-command", action="store_true", help="model=dcn with its defaults, not the preset")
    parser.add_argument("overrides", nargs="*", help="extra rsx overrides for every run (e.g. trainer.seed=1)")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    what = (["model=dcn", "data=movielens", "data.variant=latest_small", "data.source=files"]
            if args.issue_command else ["experiment=latest_small_dcn"])
    common = [*what, f"data.path={Path(args.data).resolve()}", "trainer.checkpoint=false",
              *args.overrides]
    load = [os.getloadavg()]
    rows, runs = {}, {}
    for name, backend in BACKENDS.items():
        run = runs[name] = run_rsx(workdir, [*common, *backend], experiment="dcn_across_backends")
        metrics = run.data.metrics
        rows[name] = {"test_rmse_stars": metrics["test_rmse"], "val_rmse_stars": metrics.get("val_rmse"),
                      "baseline_test_rmse_stars": metrics["baseline_test_rmse"],
                      "epochs_trained": epochs_trained(workdir, run),
                      "run_id": run.info.run_id, "overrides": [*common, *backend]}
        load.append(os.getloadavg())
    seeds = {42: rows["cpu_reference"]["test_rmse_stars"]}
    for seed in args.seeds:
        run = run_rsx(workdir, [*common, "backend=cpu_reference", f"trainer.seed={seed}"], experiment="dcn_across_backends")
        seeds[seed] = run.data.metrics["test_rmse"]
        load.append(os.getloadavg())
    seed_spread = (max(seeds.values()) - min(seeds.values())) / min(seeds.values())

    svdpp = svdpp_reference(runs["cpu_reference"])
    rmses = [row["test_rmse_stars"] for row in rows.values()]
    spread = (max(rmses) - min(rmses)) / min(rmses)
    print(f"\n{'backend':30s} {'test RMSE (stars)':>18s} {'val RMSE':>9s} {'/ SVD++':>8s}")
    for name, row in rows.items():
        row["ratio_to_svdpp"] = row["test_rmse_stars"] / svdpp if svdpp else None
        ratio = f"{row['ratio_to_svdpp']:8.3f}" if svdpp else "       -"
        val = row["val_rmse_stars"] or float("nan")
        print(f"{name:30s} {row['test_rmse_stars']:18.4f} {val:9.4f} {ratio}")
    print(f"max relative spread over backends: {spread:.2%} (goal <= 2 %)")
    print(f"cpu_reference over seeds {sorted(seeds)}: " + ", ".join(f"{v:.4f}" for _, v in sorted(seeds.items()))
          + f", spread {seed_spread:.2%}")
    write_results("dcn_across_backends" + ("_issue_command" if args.issue_command else ""), {
        "data": "ml-latest-small", "split": "random, split_seed 42, train_fraction 0.8, validation 10 % of train",
        "extra_overrides": args.overrides, "svdpp_test_rmse_stars": svdpp, "results": rows,
        "max_relative_spread": spread,
        "cpu_reference_test_rmse_stars_by_seed": seeds, "seed_spread": seed_spread,
        "load_average_before_and_after_each_run": load,
    })


if __name__ == "__main__":
    main()
