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

from harness import DATA, HERE, epoch_seconds, prepared_file, run_rsx, write_results


def rsx_epochs(workdir: Path, epochs: int, batch: int, extra: list[str]) -> list[float]:
    run = run_rsx(workdir, [*DATA, f"trainer.epochs={epochs}", f"trainer.batch_size={batch}", *extra])
    return epoch_seconds(workdir, run)


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
    write_results("ranking_cpu_reference", {"batch_size": args.batch_size, "rows": rows})


if __name__ == "__main__":
    main()
