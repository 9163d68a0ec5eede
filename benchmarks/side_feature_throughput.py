"""Do multi-hot side features make training slow? Examples/s of dcn with genres and tags
against the ids-only ranking model, and of tf_sparsecore's CPU fallback against cpu_reference.

    python benchmarks/side_feature_throughput.py [--data ../shared/data/ml-latest-small] [--epochs 3]

Goals (issue 11): dcn with genres + tags at least 0.5x the ids-only ranking model's examples/s
on cpu_reference; tf_sparsecore's CPU fallback within 1.5x of cpu_reference on the same model.
Every run is a real `python -m rsx` run on ml-latest-small (72,602 training rows, genres up
to 10 and tags up to 20 ids per movie); examples/s is the median over the epochs after the
first (which includes compilation), read back from MLflow. Records
benchmarks/results/side_feature_throughput.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from harness import run_rsx, write_results

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-latest-small"

RUNS = {
    "ranking ids only, cpu_reference": ["experiment=latest_small_ranking"],
    "dcn genres+tags, cpu_reference": ["experiment=latest_small_dcn", "model.features=[genres,tags]"],
    "dcn genres+tags, tf_sparsecore (CPU fallback)": [
        "experiment=latest_small_dcn", "model.features=[genres,tags]", "backend=tf_sparsecore", "backend.tpu=off"],
}


def examples_per_second(workdir: Path, run) -> list[float]:
    import mlflow

    history = mlflow.MlflowClient(f"sqlite:///{workdir}/mlflow.db").get_metric_history(
        run.info.run_id, "examples_per_second")
    return [m.value for m in sorted(history, key=lambda m: m.step)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="the ml-latest-small folder")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    common = [f"data.path={Path(args.data).resolve()}", f"trainer.epochs={args.epochs}", "trainer.checkpoint=false"]
    results = {}
    with tempfile.TemporaryDirectory(prefix="rsx-throughput-") as tmp:
        for name, overrides in RUNS.items():
            run = run_rsx(Path(tmp), [*overrides, *common])
            per_epoch = examples_per_second(Path(tmp), run)
            results[name] = {"overrides": [*overrides, *common], "examples_per_second_per_epoch": per_epoch,
                             "examples_per_second": statistics.median(per_epoch[1:] or per_epoch),
                             "test_rmse": run.data.metrics.get("test_rmse")}
    ranking, dcn, fallback = (results[name]["examples_per_second"] for name in RUNS)
    ratios = {"dcn_over_ranking": dcn / ranking, "sparsecore_fallback_over_cpu_reference": fallback / dcn}
    for name, row in results.items():
        print(f"{name:48s} {row['examples_per_second']:10.0f} examples/s")
    print(f"dcn / ranking: {ratios['dcn_over_ranking']:.2f} (goal >= 0.5); "
          f"tf_sparsecore fallback / cpu_reference: {ratios['sparsecore_fallback_over_cpu_reference']:.2f} "
          "(goal >= 0.67, i.e. within 1.5x)")
    write_results("side_feature_throughput", {
        "data": "ml-latest-small", "epochs": args.epochs, "load_average": os.getloadavg(),
        "note": "2 shared cores: compare ratios from one run, not absolute numbers across runs",
        "results": results, "ratios": ratios,
    })


if __name__ == "__main__":
    main()
