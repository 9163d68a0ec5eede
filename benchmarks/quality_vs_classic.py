"""Test RMSE in stars of rsx's rating models beside Surprise's classic ones, on one split.

    python benchmarks/quality_vs_classic.py [--data ../shared/data/ml-latest-small] [--epochs N]

Needs the `bench` extra (`pip install -e ".[bench]"`: scikit-surprise). rsx never imports it.

On MovieLens latest-small (random split, shuffle seed 42: the last 20 % of the rows are the
test split, the last 10 % of the rest validation) it trains rsx's presets
`latest_small_ranking`, `latest_small_dcn` and `latest_small_dlrm` (`python -m rsx ...`, as
a user would, MLflow on) and, in the same run, Surprise's BaselineOnly, SVD and SVD++. The
split is exactly rsx's: the train/test rows come from rsx's prepared data (read back from the
cache the rsx runs wrote), their dense rows mapped back to raw MovieLens ids for Surprise.

Both sides fit on the same training rows (validation rows excluded: rsx uses them only for
its presets' early stopping, which picks the epoch; Surprise's fits use none). A test row's
movie that was never rated in training keeps its raw MovieLens id (rsx's item tables have a
row for every movie, `data.vocabulary_from=all`), which Surprise's training set lacks, so it
falls back to its bias terms as for any unseen item; a row out of rsx's vocabulary (dense
row 0, none with `vocabulary_from=all`) gets a fresh raw id of its own. Prints one table (test RMSE in
stars, ratio to SVD++, examples/s) and records benchmarks/results/quality_vs_classic.json.
"""

from __future__ import annotations

import argparse
import glob
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from harness import run_rsx, write_results

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-latest-small"

#: rsx's side: (row name, preset). ranking is the tutorial's model (ids only), as published.
PRESETS = [
    ("rsx ranking (ids only)", "latest_small_ranking"),
    ("rsx dcn (genres, tags, year)", "latest_small_dcn"),
    ("rsx dlrm (genres, tags, year)", "latest_small_dlrm"),
]


def surprise_rows(data, split: str) -> list[tuple[str, str, float]]:
    """(raw user id, raw movie id, rating) of a split of rsx's prepared data, as Surprise reads
    them; a cold row (dense row 0) gets an id no training row has."""
    users = data.vocabularies["user_id"][data.split(split)["user_id"]]
    items = data.vocabularies["item_id"][data.split(split)["item_id"]]
    cold_users = data.split(split)["user_id"] == 0
    cold_items = data.split(split)["item_id"] == 0
    ratings = data.split(split)["rating"]
    return [
        (f"cold-user-{i}" if cu else str(u), f"cold-item-{i}" if ci else str(m), float(r))
        for i, (u, m, r, cu, ci) in enumerate(zip(users, items, ratings, cold_users, cold_items))
    ]


def classic_rmse(data, seed: int) -> dict[str, dict]:
    """Surprise's BaselineOnly, SVD and SVD++ (their defaults) fit on rsx's training rows."""
    import pandas as pd
    from surprise import SVD, BaselineOnly, Dataset, Reader, SVDpp, accuracy

    train = pd.DataFrame(surprise_rows(data, "train"), columns=["user", "item", "rating"])
    trainset = Dataset.load_from_df(train, Reader(rating_scale=data.schema.rating_scale)).build_full_trainset()
    testset = surprise_rows(data, "test")
    results = {}
    for name, algorithm in [("Surprise BaselineOnly", BaselineOnly(verbose=False)),
                            ("Surprise SVD", SVD(random_state=seed)),
                            ("Surprise SVD++", SVDpp(random_state=seed))]:
        start = time.perf_counter()
        algorithm.fit(trainset)
        rmse = accuracy.rmse(algorithm.test(testset), verbose=False)
        results[name] = {"test_rmse_stars": float(rmse), "seconds": time.perf_counter() - start}
    return results


def rsx_run(workdir: Path, data_path: str, preset: str, epochs: int | None) -> dict:
    """One rsx preset's run: its final metrics (in its label's units) and overrides."""
    overrides = [f"experiment={preset}", f"data.path={data_path}"]
    if epochs:
        overrides.append(f"trainer.epochs={epochs}")
    run = run_rsx(workdir, overrides)
    best = run.data.tags.get("rsx.early_stopping.best_epoch")
    return {"run_id": run.info.run_id, "overrides": overrides, "metrics": run.data.metrics,
            "best_epoch": int(best) if best else None}


def mean_predictor_rmse(data) -> float:
    """Test RMSE in stars of predicting the training mean rating."""
    return float(np.sqrt(np.mean(np.square(data.test["rating"] - np.mean(data.train["rating"])))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="the ml-latest-small folder")
    parser.add_argument("--epochs", type=int, default=None, help="override every preset's epochs")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    data_path = str(Path(args.data).resolve())
    load = [os.getloadavg()]

    from rsx.data.prepared import PreparedData

    with tempfile.TemporaryDirectory(prefix="rsx-quality-") as tmp:
        workdir = Path(tmp)
        runs = {name: rsx_run(workdir, data_path, preset, args.epochs) for name, preset in PRESETS}
        cached = glob.glob(str(workdir / ".rsx_cache" / "**" / "*.npz"), recursive=True)
        # One prepared file for every run: the presets share one data config, so one split.
        assert len(cached) == 1, f"expected one prepared dataset, found {cached}"
        data = PreparedData.load(cached[0])
        baseline = mean_predictor_rmse(data)
        rows = {}
        for name, run in runs.items():
            metrics = run["metrics"]
            # ranking trains on the [0, 1] label, dcn/dlrm on stars: every run logs the mean
            # predictor's RMSE in its own units, which gives the factor to stars.
            scale = baseline / metrics["baseline_test_rmse"]
            rows[name] = {
                "test_rmse_stars": metrics["test_rmse"] * scale,
                "val_rmse_stars": metrics.get("val_rmse", float("nan")) * scale,
                "baseline_test_rmse_stars": metrics["baseline_test_rmse"] * scale,
                "examples_per_second": metrics.get("examples_per_second"),
                "best_epoch": run["best_epoch"],
                "run_id": run["run_id"],
                "overrides": run["overrides"],
            }
        load.append(os.getloadavg())
        rows.update(classic_rmse(data, args.seed))
        load.append(os.getloadavg())

    reference = rows["Surprise SVD++"]["test_rmse_stars"]
    print(f"\nml-latest-small, random split (seed 42): {data.num_train} train / {data.num_validation} "
          f"validation / {data.num_test} test rows; mean predictor {baseline:.4f} stars")
    print(f"{'model':34s} {'test RMSE (stars)':>18s} {'/ SVD++':>8s} {'ex/s (last epoch)':>18s}")
    for name, row in sorted(rows.items(), key=lambda item: item[1]["test_rmse_stars"]):
        row["ratio_to_svdpp"] = row["test_rmse_stars"] / reference
        speed = f"{row['examples_per_second']:.0f}" if row.get("examples_per_second") else "-"
        print(f"{name:34s} {row['test_rmse_stars']:18.4f} {row['ratio_to_svdpp']:8.3f} {speed:>18s}")
    write_results("quality_vs_classic", {
        "data": "ml-latest-small", "split": "random, split_seed 42, train_fraction 0.8, validation 10 % of train",
        "rows": {"train": data.num_train, "validation": data.num_validation, "test": data.num_test},
        "digest": data.digest(), "epochs_override": args.epochs, "mean_predictor_rmse_stars": baseline,
        "results": rows, "load_average_start_after_rsx_after_surprise": load,
    })


if __name__ == "__main__":
    main()
