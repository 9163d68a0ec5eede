"""Data preparation speed and memory: a MovieLens-20M-shaped CSV and ml-latest-small.

    python benchmarks/data_prepare.py                    # 20M rows + ml-latest-small
    python benchmarks/data_prepare.py --rows 5000000     # a smaller synthetic file

The synthetic case writes (once, under --workdir) `ratings.csv` with `--rows` interactions of
138,493 users and 26,744 items (MovieLens 20M's counts; ids non-contiguous, as GroupLens'),
half-star ratings and timestamps, `items.csv` (genres: multi-hot of 20, year: numeric) and
`users.csv` (segment: categorical): three side features. It is prepared through
`data=interactions` (the pipeline every dataset uses: read, clean, split, vocabularies, feature
tables; the random split a seeded NumPy permutation unless --shuffle-buffer asks for the
tutorials' tf.data one), and ml-latest-small through `data=movielens` (which keeps the
tutorials' tf.data shuffle, buffer 100_000, so its cold time includes importing TensorFlow). Each measurement runs in a fresh
process (its peak RSS is the process's own): a cold preparation (no cache) and a cached
reload (a new process that imports rsx, checks the files against the digest memo and reads
the prepared `.npz`). Goals on the 2-core machine: 20M rows
prepared in < 60 s and < 6 GiB, a cached reload < 5 s. Results: benchmarks/results/data_prepare.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
USERS, ITEMS, GENRES = 138_493, 26_744, 20


def write_movielens_20m_shape(folder: Path, rows: int, seed: int = 0) -> dict[str, str]:
    """Writes ratings.csv / items.csv / users.csv once; returns their paths."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: str(folder / f"{name}.csv") for name in ("ratings", "items", "users")}
    done = folder / f".rows-{rows}"
    if done.exists():
        return paths
    rng = np.random.default_rng(seed)
    item_ids = np.sort(rng.choice(131_262, ITEMS, replace=False) + 1)  # 20M's largest id: 131,262
    # Popularity is skewed, as in MovieLens: items drawn from a Zipf-like distribution.
    weights = 1.0 / np.arange(1, ITEMS + 1) ** 0.9
    weights /= weights.sum()
    with pacsv.CSVWriter(paths["ratings"], pa.schema([("user", pa.int64()), ("item", pa.int64()),
                                                      ("rating", pa.float64()), ("timestamp", pa.int64())])) as out:
        for start in range(0, rows, 2_000_000):
            n = min(2_000_000, rows - start)
            out.write_table(pa.table({
                "user": rng.integers(1, USERS + 1, n),
                "item": item_ids[rng.choice(ITEMS, n, p=weights)],
                "rating": rng.integers(1, 11, n) / 2.0,
                "timestamp": rng.integers(789_652_009, 1_427_784_002, n),
            }))
    genres = [f"g{g}" for g in range(GENRES)]
    pacsv.write_csv(pa.table({
        "item": item_ids,
        "genres": ["|".join(rng.choice(genres, rng.integers(1, 4), replace=False)) for _ in range(ITEMS)],
        "year": rng.integers(1915, 2016, ITEMS),
    }), paths["items"])
    pacsv.write_csv(pa.table({"user": np.arange(1, USERS + 1),
                              "segment": [f"s{s}" for s in rng.integers(0, 8, USERS)]}), paths["users"])
    done.touch()
    return paths


def interactions_config(paths: dict[str, str], cache_dir: str) -> dict:
    return {
        "dataset": "interactions", "name": "movielens_20m_shape", "path": paths["ratings"],
        "columns": {"user": "user", "item": "item", "rating": "rating", "timestamp": "timestamp"},
        "user_features_path": paths["users"], "item_features_path": paths["items"],
        "features": {"segment": {"kind": "categorical", "entity": "user"},
                     "genres": {"kind": "multi_hot", "entity": "item"},
                     "year": {"kind": "numeric", "entity": "item"}},
        "rating_scale": [0.5, 5.0], "cache_dir": cache_dir,
    }


MEASURE = """
import json, resource, sys, time
start = time.perf_counter()
from rsx.data import load_prepared
data = load_prepared(json.loads(sys.argv[1]))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "rows": data.num_train + data.num_validation + data.num_test,
                  "train": data.num_train, "validation": data.num_validation, "test": data.num_test,
                  "vocabulary_sizes": data.vocabulary_sizes,
                  "features": [f.name for f in data.schema.features]}))
"""


def measure(config: dict) -> dict:
    """Prepares (or loads) `config` in a fresh process; its time and peak memory."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(config)], capture_output=True,
                            text=True, env=env, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def case(name: str, config: dict) -> dict:
    load_before = os.getloadavg()[0]
    cold = measure(config)
    cached = measure(config)  # the cache written by the cold run
    cold["load_average_1min_before"] = load_before
    cached["load_average_1min_after"] = os.getloadavg()[0]
    print(f"{name}: {cold['rows']:,} rows prepared in {cold['seconds']:.1f} s, peak {cold['peak_rss_gib']:.2f} GiB; "
          f"cached reload {cached['seconds']:.1f} s, peak {cached['peak_rss_gib']:.2f} GiB", flush=True)
    return {"cold": cold, "cached": cached}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows of the synthetic CSV (0 = skip it)")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "rsx-bench-data"))
    parser.add_argument("--latest-small", default=None, help="ml-latest-small folder (default: ../shared/data)")
    parser.add_argument("--split", default="random",
                        help="data.split of the synthetic case (random: a NumPy permutation, data.shuffle_buffer=null)")
    parser.add_argument("--shuffle-buffer", type=int, default=None,
                        help="data.shuffle_buffer of the synthetic case: an integer runs the tutorials' exact "
                             "tf.data shuffle (TensorFlow import + shuffle)")
    parser.add_argument("--skip-latest-small", action="store_true")
    parser.add_argument("--out", default=str(HERE / "results" / "data_prepare.json"))
    args = parser.parse_args()

    results = {"machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
               "goals": {"prepare_s": 60, "peak_gib": 6, "cached_reload_s": 5}, "cases": {}}
    workdir = Path(args.workdir)
    from rsx.testing.data import shared_data

    small = None if args.skip_latest_small else (args.latest_small or shared_data())
    if small:
        cache = tempfile.mkdtemp(prefix="cache-", dir=workdir if workdir.exists() else None)
        results["cases"]["ml_latest_small"] = case("ml-latest-small", {
            "dataset": "movielens", "variant": "latest_small", "source": "files", "path": str(small),
            "cache_dir": cache})
    if args.rows:
        started = time.perf_counter()
        paths = write_movielens_20m_shape(workdir / f"ml20m-shape-{args.rows}", args.rows)
        print(f"data files ready in {time.perf_counter() - started:.0f} s "
              f"({os.path.getsize(paths['ratings']) / 2**20:.0f} MiB ratings.csv)", flush=True)
        cache = tempfile.mkdtemp(prefix="cache-", dir=workdir)
        config = {**interactions_config(paths, cache), "split": args.split, "shuffle_buffer": args.shuffle_buffer}
        tf_shuffle = "" if args.shuffle_buffer is None else f"_tf_buffer_{args.shuffle_buffer}"
        results["cases"][f"interactions_{args.rows}_{args.split}{tf_shuffle}"] = case(
            f"{args.rows:,}-row CSV, split={args.split}{tf_shuffle}", config)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():  # keep the cases of earlier invocations (other sizes, other splits)
        earlier = json.loads(out.read_text())
        results["cases"] = {**earlier.get("cases", {}), **results["cases"]}
    results["load_average"] = os.getloadavg()
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
