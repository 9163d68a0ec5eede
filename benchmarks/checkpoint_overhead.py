"""What a per-epoch checkpoint costs: time to save and to restore model + optimizer state.

Builds the ranking model (dim 32, Dense 256/64, tables trained by their own Adam through
`TableRoutedOptimizer`) on cpu_reference at two table sizes, MovieLens-100k's and a 100x
larger one, trains one small epoch so the optimizer state exists, then times
`EpochCheckpoint.on_epoch_end` (what every epoch pays) and `restore` (what a resume pays).

    python benchmarks/checkpoint_overhead.py [tensorflow|jax] [--repeats 5]

Prints a table and writes benchmarks/results/checkpoint_overhead_<backend>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backend", nargs="?", default="tensorflow", choices=["tensorflow", "jax"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ["KERAS_BACKEND"] = args.backend

    import numpy as np
    from omegaconf import OmegaConf

    from rsx.data.prepared import PreparedData
    from rsx.engine.checkpoints import EpochCheckpoint, restore
    from rsx.resume import read_state
    from rsx_plugins.cpu_reference.backend import CpuReferenceBackend
    from rsx_plugins.cpu_reference.config import CpuReferenceConfig
    from rsx_plugins.ranking.config import RankingConfig
    from rsx_plugins.ranking.model import RankingModel

    rows = []
    for users, movies in ((944, 1683), (94_400, 168_300)):
        rng = np.random.default_rng(0)

        def columns(n):
            return {
                "user_id": rng.integers(1, users, n).astype("int32"),
                "item_id": rng.integers(1, movies, n).astype("int32"),
                "label": rng.random(n).astype("float32"),
                "rating": rng.random(n).astype("float32"),
            }

        data = PreparedData("bench", columns(4096), columns(256), {"user_id": users, "item_id": movies}, np.array([""]))
        plugin = RankingModel(OmegaConf.structured(RankingConfig), data)
        backend = CpuReferenceBackend(OmegaConf.structured(CpuReferenceConfig))
        optimizer = backend.optimizer(plugin.optimizer(), plugin.tables())
        model = plugin.build(backend.embeddings(plugin.tables(), plugin.features(), 256))
        model.compile(optimizer=optimizer, loss=plugin.loss())
        train = backend.dataset(data.train, ["user_id", "item_id"], "label", 256, True, True, 0)
        model.fit(train, epochs=1, verbose=0)

        with tempfile.TemporaryDirectory() as folder:
            saver = EpochCheckpoint(folder, run_id=None, job_key="bench")
            saver.set_model(model)
            saves, restores = [], []
            for epoch in range(args.repeats):
                start = time.perf_counter()
                saver.on_epoch_end(epoch, {"loss": 0.1})
                saves.append(time.perf_counter() - start)
                state = read_state(folder)
                start = time.perf_counter()
                restore(model, state)
                restores.append(time.perf_counter() - start)
            size = os.path.getsize(state.weights)
        parameters = sum(int(np.prod(v.shape)) for v in model.weights)
        optimizer_values = sum(int(np.prod(v.shape)) for v in model.optimizer.variables)
        rows.append(
            {
                "table_rows": users + movies,
                "model_parameters": parameters,
                "optimizer_values": optimizer_values,
                "checkpoint_mb": round(size / 2**20, 2),
                "save_s_median": round(statistics.median(saves), 4),
                "restore_s_median": round(statistics.median(restores), 4),
            }
        )

    print(f"keras backend: {args.backend}, {args.repeats} repeats, medians")
    print(f"{'table rows':>11} {'params':>11} {'opt values':>11} {'MB':>8} {'save s':>8} {'restore s':>10}")
    for r in rows:
        print(
            f"{r['table_rows']:>11,} {r['model_parameters']:>11,} {r['optimizer_values']:>11,} "
            f"{r['checkpoint_mb']:>8} {r['save_s_median']:>8} {r['restore_s_median']:>10}"
        )
    out = HERE / "results" / f"checkpoint_overhead_{args.backend}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"backend": args.backend, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
