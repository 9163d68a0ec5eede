"""In-batch softmax vs MSE two-tower training throughput, same backend, same global batch 1024.

    python benchmarks/retrieval_throughput.py [--data ../shared/data/ml-latest-small]
        [--backends cpu_reference jax_dataparallel] [--rounds 2] [--epochs 5]

One child process per backend (its environment applied before Keras starts: cpu_reference on
its default TensorFlow and on JAX, jax_dataparallel with 2 virtual CPU devices). In each,
the `retrieval_softmax` preset's two-tower trains through
rsx's engine (`train_and_evaluate`, as a run does) on ml-latest-small's training rows, with
only the loss changed: `softmax` (in-batch negatives, logQ, accidental hits removed) and `mse`
(the tutorial's). Both train on every training row (train_min_rating=null, so both have the
same steps per epoch); the preset's own softmax (rows rated >= 4 only) is reported beside.

Speed is rsx's `examples_per_second` metric (training examples / `epoch_seconds`), median of
epochs 2..N; validation is off (validation_freq > epochs), so neither Keras' evaluation nor
the retrieval validation callback runs. The losses alternate, `--rounds` times each; a
round's number is the median of its epochs 2..N, and the best round is compared (other jobs on
a shared machine only ever slow an epoch down).
Results: benchmarks/results/retrieval_throughput.json (with the load average it ran at).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: What each loss changes on top of the preset (everything else identical).
LOSSES = {
    "softmax": {"loss": "softmax", "train_min_rating": None},
    "mse": {"loss": "mse", "train_min_rating": None},
    "softmax_preset_rows": {"loss": "softmax"},  # The preset: rows rated >= 4 only.
}
#: Name -> (backend, its overrides, the child's environment: what its BackendSpec.environment
#: sets). cpu_reference runs on TensorFlow unless told `backend.keras_backend=jax`.
SETUPS = {
    "cpu_reference": ("cpu_reference", [], {"KERAS_BACKEND": "tensorflow"}),
    "cpu_reference_jax": ("cpu_reference", ["backend.keras_backend=jax"],
                          {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}),
    "jax_dataparallel": ("jax_dataparallel", ["backend.cpu_devices=2"],
                         {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
                          "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}),
    "tf_sparsecore": ("tf_sparsecore", [], {"KERAS_BACKEND": "tensorflow"}),
}


def child(setup: str, data_path: Path, rounds: int, epochs: int, steps_per_execution: int = 1) -> dict:
    """Runs every loss `rounds` times in this process; returns the speeds."""
    from omegaconf import OmegaConf

    from retrieval_data import latest_small
    from retrieval_vs_classic import REPO, MemoryTracker
    from rsx.discovery import discover
    from rsx.engine.training import train_and_evaluate
    from rsx.testing.compose import compose_config

    backend, overrides, _ = SETUPS[setup]
    data = latest_small(data_path)
    preset = OmegaConf.load(REPO / "conf" / "experiment" / "retrieval_softmax.yaml")
    registry = discover()
    runs: dict = {}
    for _ in range(rounds):
        for loss, model in LOSSES.items():
            cfg = compose_config(["model=two_tower", f"backend={backend}", *overrides])
            OmegaConf.set_struct(cfg, False)
            for section in ("trainer", "model"):
                cfg[section] = OmegaConf.merge(cfg[section], preset.get(section, {}))
            cfg.model = OmegaConf.merge(cfg.model, model)
            cfg.trainer.update(epochs=epochs, validation_freq=epochs + 1, verbose=0,
                               steps_per_execution=steps_per_execution)
            tracker = MemoryTracker()
            train_and_evaluate(cfg, registry.backend(backend), registry.model("two_tower"), data, tracker)
            speeds = [v for step, v in tracker.history["examples_per_second"] if step > 1]
            runs.setdefault(loss, []).append(statistics.median(speeds))
            print(f"{setup} {loss:<20} {statistics.median(speeds):>10,.0f} examples/s", flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "ml-latest-small")
    parser.add_argument("--backends", nargs="+", default=["cpu_reference", "cpu_reference_jax", "jax_dataparallel"],
                        choices=list(SETUPS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--steps-per-execution", type=int, default=1,
                        help="trainer.steps_per_execution of every run (results file gets a _spe<N> suffix)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.data, args.rounds, args.epochs, args.steps_per_execution)))
        return
    if not (args.data / "ratings.csv").exists():
        sys.exit(f"no ratings.csv in {args.data}: pass --data <ml-latest-small folder>")
    from harness import write_results

    results = {}
    for backend in args.backends:  # One after another: the machine is shared.
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        env = {**os.environ, **SETUPS[backend][2]}
        out = subprocess.run([sys.executable, __file__, "--child", backend, "--data", str(args.data),
                              "--rounds", str(args.rounds), "--epochs", str(args.epochs),
                              "--steps-per-execution", str(args.steps_per_execution)],
                             env=env, text=True, capture_output=True)
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            sys.exit(f"{backend} failed:\n{out.stderr[-3000:]}")
        runs = json.loads(line.removeprefix("RESULT "))
        best = {key: max(values) for key, values in runs.items()}
        results[backend] = {
            "examples_per_second_median_of_epochs_2_to_n": runs,
            "best_round": best,
            "ratio_softmax_to_mse": best["softmax"] / best["mse"],
            "ratio_preset_softmax_to_mse": best["softmax_preset_rows"] / best["mse"],
            "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
            "seconds": round(time.perf_counter() - start, 1),
        }
        print(f"{backend}: softmax / mse = {results[backend]['ratio_softmax_to_mse']:.2f}", flush=True)
    spe = args.steps_per_execution
    write_results("retrieval_throughput" + ("" if spe == 1 else f"_spe{spe}"), {
        "steps_per_execution": spe,
        "data": "ml-latest-small training rows (rsx random split, seed 42), global batch 1024, "
                "retrieval_softmax preset",
        "machine": f"{os.cpu_count()} CPU cores shared with other jobs",
        "command": "python benchmarks/retrieval_throughput.py " + " ".join(sys.argv[1:]),
        "results": results,
    })


if __name__ == "__main__":
    main()
