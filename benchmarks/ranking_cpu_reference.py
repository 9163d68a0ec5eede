"""Throughput of rsx's ranking job on cpu_reference vs the same model in plain Keras.

Both train the same data (synthetic, MovieLens-100k shaped: 943 users, 1,682 movies, 100k
ratings, 80k train) at the same batch size, in fresh processes, one after the other on this
machine. rsx runs through its real CLI (`python -m rsx ...`, MLflow on), so the number
includes everything a user pays for. The first epoch (tracing/compilation) is left out;
the median of the rest is compared.

    python benchmarks/ranking_cpu_reference.py [--epochs 5] [--repeats 2]

Prints a table and writes benchmarks/results/ranking_cpu_reference.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from omegaconf import OmegaConf

HERE = Path(__file__).resolve().parent
DATA = ["data=synthetic", "data.num_users=943", "data.num_items=1682", "data.num_interactions=100000"]


def prepared_file(workdir: Path) -> Path:
    """Writes the benchmark's data once, in rsx's cache format, and returns its path."""
    from rsx.config import SyntheticConfig
    from rsx.data import load_prepared

    config = OmegaConf.structured(SyntheticConfig(num_users=943, num_items=1682, num_interactions=100_000))
    path = workdir / "prepared.npz"
    load_prepared(config, cache_root=str(workdir / "cache")).save(path)
    return path


def rsx_epochs(workdir: Path, epochs: int, batch: int, extra: list[str]) -> list[float]:
    import mlflow

    db = f"sqlite:///{workdir}/mlflow.db"
    env = {**os.environ, "RSX_HOME": str(workdir)}
    env.pop("KERAS_BACKEND", None)
    args = [*DATA, f"trainer.epochs={epochs}", f"trainer.batch_size={batch}", "trainer.verbose=0",
            f"tracking.uri={db}", "tracking.experiment=benchmark", *extra]
    subprocess.run([sys.executable, "-m", "rsx", *args], cwd=workdir, env=env, check=True,
                   capture_output=True, text=True)
    client = mlflow.MlflowClient(db)
    run = client.search_runs([client.get_experiment_by_name("benchmark").experiment_id],
                             order_by=["attributes.start_time DESC"], max_results=1)[0]
    return [m.value for m in sorted(client.get_metric_history(run.info.run_id, "epoch_seconds"), key=lambda m: m.step)]


def plain_epochs(data: Path, epochs: int, batch: int, keras_backend: str) -> list[float]:
    env = {**os.environ, "KERAS_BACKEND": keras_backend}
    out = subprocess.run([sys.executable, str(HERE / "ranking_plain_keras.py"), str(data),
                          "--epochs", str(epochs), "--batch-size", str(batch)],
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["epoch_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    examples = 80_000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        data = prepared_file(workdir)
        cases = [
            ("plain keras (tf)", lambda: plain_epochs(data, args.epochs, args.batch_size, "tensorflow")),
            ("rsx cpu_reference (tf, same pipeline)",
             lambda: rsx_epochs(workdir, args.epochs, args.batch_size, ["trainer.shuffle=false"])),
            ("rsx cpu_reference (tf, reshuffled each epoch)",
             lambda: rsx_epochs(workdir, args.epochs, args.batch_size, [])),
        ]
        for name, measure in cases:
            seconds = []
            for _ in range(args.repeats):
                seconds += measure()[1:]  # epoch 1 includes tracing/compilation
            median = statistics.median(seconds)
            rows.append({"case": name, "median_epoch_seconds": median, "examples_per_second": examples / median,
                         "epochs_measured": len(seconds)})

    base = rows[0]["examples_per_second"]
    print(f"{'case':<48} {'s/epoch':>8} {'examples/s':>11} {'vs plain':>8}")
    for row in rows:
        row["ratio_vs_plain"] = row["examples_per_second"] / base
        print(f"{row['case']:<48} {row['median_epoch_seconds']:>8.3f} {row['examples_per_second']:>11,.0f} "
              f"{row['ratio_vs_plain']:>8.2f}")
    out = HERE / "results" / "ranking_cpu_reference.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"batch_size": args.batch_size, "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
