"""Do item side features help the in-batch softmax two-tower? `experiment=retrieval_softmax`
on ml-latest-small, same split and seed, with and without genres, tags and year in the
candidate tower; chosen on validation, test reported beside.

    python benchmarks/retrieval_side_features.py [--data ../shared/data/ml-latest-small]

Six runs, one after another, through the CLI (`python -m rsx`, MLflow in a temporary
folder): the preset as it is; the preset with a Dense layer on the candidate tower
(`model.candidate_layers=[64]`, so the layer's own effect is seen); that layer fed the item
id's embedding concatenated with genres (multi-hot, mean), tags (multi-hot, mean) and year
(numeric); and, without layers, the item embedding plus a linear projection of the three
(what two_tower does with side features and no layers), then the same with genres and year,
and with genres alone.
Results: benchmarks/results/retrieval_side_features.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import run_rsx, write_results  # noqa: E402

VARIANTS = {
    "preset": [],
    "candidate_layer": ["model.candidate_layers=[64]"],
    "candidate_layer+genres,tags,year": ["model.candidate_layers=[64]", "model.item_features=[genres,tags,year]"],
    "genres,tags,year_projected": ["model.item_features=[genres,tags,year]"],
    "genres,year_projected": ["model.item_features=[genres,year]"],
    "genres_projected": ["model.item_features=[genres]"],
}
METRICS = ("val_recall_at_10", "val_ndcg_at_10", "test_recall_at_10", "test_ndcg_at_10", "baseline_test_recall_at_10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "ml-latest-small")
    parser.add_argument("--backend", default="cpu_reference")
    args = parser.parse_args()
    base = ["experiment=retrieval_softmax", "data.variant=latest_small", "data.source=files",
            f"data.path={args.data.resolve()}", f"backend={args.backend}"]
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name, overrides in VARIANTS.items():
            load, start = os.getloadavg()[0], time.perf_counter()
            run = run_rsx(Path(workdir), [*base, *overrides])
            results[name] = {"overrides": overrides, **{m: run.data.metrics.get(m) for m in METRICS},
                             "seconds": round(time.perf_counter() - start, 1), "load_average_1min": load}
            print(name, {m: round(v, 4) for m, v in results[name].items() if m in METRICS}, flush=True)
    preset = results["preset"]
    write_results("retrieval_side_features", {
        "command": "python benchmarks/retrieval_side_features.py " + " ".join(sys.argv[1:]),
        "data": "ml-latest-small, experiment=retrieval_softmax split (random 80/20, validation = last 10 % of "
                "the training rows), seed 42, relevant = rating >= 4, seen items excluded",
        "backend": args.backend,
        "results": results,
        "ratio_to_preset": {name: {m: r[m] / preset[m] for m in METRICS if r[m] and preset[m]}
                            for name, r in results.items()},
    })


if __name__ == "__main__":
    main()
