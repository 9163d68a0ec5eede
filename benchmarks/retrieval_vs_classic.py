"""Retrieval quality side by side: most-popular, implicit's ALS and BPR, rsx's seed_retrieval
(the tutorial's MSE two-tower) and retrieval_softmax (in-batch softmax), on ONE split of
ml-latest-small, scored by ONE piece of code (rsx's shared retrieval evaluation), in one run.

    pip install -e '.[cpu,bench]'
    python benchmarks/retrieval_vs_classic.py [--data ../shared/data/ml-latest-small]

Split: rsx's random split (80/20 as the tutorials shuffle; validation = the last 10 % of the
shuffled training rows). Every method learns from the training rows only; hyper-parameters
were chosen on the validation split, the test split is reported. Relevance rules: rating >= 4
(held-out rows rated at least 4) and all (every held-out row, RecBole's convention); items the
user interacted with before the split are excluded from the ranking. The rsx models train
through rsx's own engine (`train_and_evaluate`, cpu_reference backend on JAX), exactly as a
run does, on the same `PreparedData` object as the classic methods.

Training throughput (softmax vs MSE) is measured by benchmarks/retrieval_throughput.py.
Results: benchmarks/results/retrieval_vs_classic.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from harness import write_results  # noqa: E402
from retrieval_data import DEFAULT_PATH, latest_small  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RULES = {"rating>=4": "rating_at_least", "all": "all"}
KS = (10, 20, 50)


class MemoryTracker:
    """What `train_and_evaluate` records, kept in memory (no MLflow needed to benchmark)."""

    run_id = None

    def __init__(self):
        self.history: dict[str, list[tuple[int, float]]] = {}

    def log_metrics(self, metrics, step=None):
        for key, value in metrics.items():
            self.history.setdefault(key, []).append((step, float(value)))

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def score(scorer, data, num_items) -> dict:
    """recall/NDCG/... at KS on validation and test under both relevance rules."""
    from rsx.api.engine import RetrievalEvaluation, evaluate_retrieval, relevant_pairs, seen_pairs

    out = {}
    for rule_name, rule in RULES.items():
        evaluation = RetrievalEvaluation(metrics_k=KS, relevance=rule, relevant_rating=4.0)
        for split, prefix in (("validation", "val_"), ("test", "test_")):
            out[rule_name] = out.get(rule_name, {})
            out[rule_name].update(evaluate_retrieval(
                scorer, num_items, relevant_pairs(data.split(split), evaluation), seen_pairs(data, split),
                evaluation, prefix, users=data.split(split)["user_id"],
            ))
    return out


def popularity(data, num_items):
    from rsx.api.engine import popularity_scorer

    return popularity_scorer(data.train["item_id"], num_items)


def factor_scorer(user_factors, item_factors):
    import keras

    items = keras.ops.transpose(keras.ops.convert_to_tensor(item_factors[1:]))
    return lambda users: keras.ops.matmul(keras.ops.convert_to_tensor(user_factors[users]), items)


def implicit_model(kind: str, data, num_users, num_items, seed: int):
    """implicit's ALS or BPR on the binary user x item matrix of every training row."""
    import implicit
    import scipy.sparse as sp

    train = data.train
    matrix = sp.csr_matrix(
        (np.ones(len(train["user_id"]), np.float32), (train["user_id"], train["item_id"])), shape=(num_users, num_items)
    )
    matrix.data[:] = 1.0  # a repeated (user, item) pair counts once
    if kind == "als":
        # Chosen on the validation split among factors {64, 128}, regularization {0.05, 0.1}, alpha {1, 10}.
        model = implicit.cpu.als.AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15, random_state=seed)
    else:
        model = implicit.cpu.bpr.BayesianPersonalizedRanking(factors=64, learning_rate=0.05, regularization=0.01,
                                                              iterations=100, random_state=seed)
    model.fit(matrix, show_progress=False)
    return factor_scorer(np.asarray(model.user_factors), np.asarray(model.item_factors))


def rsx_config(preset: str, overrides: dict):
    """The preset's trainer and model sections on the cpu_reference backend (JAX); the preset
    file is rsx's `conf/experiment/<preset>.yaml` or a plugin's `plugins/*/conf/experiment/`."""
    from rsx.testing.compose import compose_config

    cfg = compose_config(["model=two_tower", "backend=cpu_reference", "backend.keras_backend=jax"])
    OmegaConf.set_struct(cfg, False)
    # rsx's own conf/ first, then the plugins' (as hydra_plugins/rsx_plugin_presets searches).
    found = [path / "experiment" / f"{preset}.yaml" for path in [REPO / "conf", *sorted(REPO.glob("plugins/*/conf"))]]
    preset_cfg = OmegaConf.load(next(path for path in found if path.exists()))
    for section in ("trainer", "model"):
        cfg[section] = OmegaConf.merge(cfg[section], preset_cfg.get(section, {}))
    cfg = OmegaConf.merge(cfg, OmegaConf.create(overrides))
    cfg.trainer.verbose = 0
    return cfg


def run_rsx(preset: str, data, overrides: dict | None = None):
    """Trains through rsx's engine; returns (scorer, examples/s of epochs 2+ as
    {"median", "best"}, seconds). The best epoch is the robust number on a shared machine
    (other processes only ever slow an epoch down)."""
    from rsx.discovery import discover
    from rsx.engine.training import train_and_evaluate

    cfg = rsx_config(preset, overrides or {})
    registry = discover()
    tracker = MemoryTracker()
    start = time.perf_counter()
    result = train_and_evaluate(cfg, registry.backend("cpu_reference"), registry.model("two_tower"), data, tracker)
    seconds = time.perf_counter() - start
    speeds = [v for step, v in tracker.history.get("examples_per_second", []) if step and step > 1]
    towers = result.plugin._towers(result.model)
    speed = {"median": statistics.median(speeds), "best": max(speeds)} if speeds else None
    return towers.scorer(), speed, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_PATH, help="the ml-latest-small folder")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if not (args.data / "ratings.csv").exists():
        sys.exit(f"no ratings.csv in {args.data}: pass --data <ml-latest-small folder>")

    load = [os.getloadavg()]
    data = latest_small(args.data)
    num_users, num_items = data.vocabulary_sizes["user_id"], data.vocabulary_sizes["item_id"]
    results, timing = {}, {}

    def record(name, make):
        start = time.perf_counter()
        made = make()
        scorer, extra = (made, {}) if callable(made) else (made[0], made[1])
        results[name] = score(scorer, data, num_items)
        timing[name] = {"seconds": round(time.perf_counter() - start, 1), **extra}
        r = results[name]["rating>=4"]
        print(f"{name:<18} val recall@10 {r['val_recall_at_10']:.4f}  test recall@10 {r['test_recall_at_10']:.4f} "
              f"ndcg@10 {r['test_ndcg_at_10']:.4f}  ({timing[name]['seconds']} s)", flush=True)

    def rsx_run(preset, overrides=None):
        scorer, speed, seconds = run_rsx(preset, data, overrides)
        return scorer, {"examples_per_second": speed, "train_and_evaluate_seconds": round(seconds, 1)}

    record("popularity", lambda: popularity(data, num_items))
    record("implicit_als", lambda: implicit_model("als", data, num_users, num_items, args.seed))
    record("implicit_bpr", lambda: implicit_model("bpr", data, num_users, num_items, args.seed))
    record("seed_retrieval", lambda: rsx_run("seed_retrieval"))
    record("retrieval_softmax", lambda: rsx_run("retrieval_softmax"))

    als = results["implicit_als"]
    print(f"\n{'method':<18} " + " ".join(f"{f'{m}@10 ({rule})':>22}" for rule in RULES for m in ("recall", "ndcg"))
          + f" {'recall@10 / ALS':>16}")
    for name, by_rule in results.items():
        cells = [by_rule[rule][f"test_{m}_at_10"] for rule in RULES for m in ("recall", "ndcg")]
        ratio = by_rule["rating>=4"]["test_recall_at_10"] / als["rating>=4"]["test_recall_at_10"]
        print(f"{name:<18} " + " ".join(f"{c:>22.4f}" for c in cells) + f" {ratio:>16.2f}")

    pop = results["popularity"]["rating>=4"]["test_recall_at_10"]
    write_results("retrieval_vs_classic", {
        "data": "ml-latest-small, rsx random split 80/20 (validation = last 10 % of training rows), seed 42",
        "protocol": "full-catalogue ranking, items seen before the split excluded, rsx.engine.retrieval_eval",
        "backend": "cpu_reference, KERAS_BACKEND=jax, 2 shared CPU cores",
        "results": results,
        "timing": timing,
        "ratio_recall_at_10_to_als": {n: r["rating>=4"]["test_recall_at_10"] / als["rating>=4"]["test_recall_at_10"]
                                      for n, r in results.items()},
        "ratio_recall_at_10_to_popularity": {n: r["rating>=4"]["test_recall_at_10"] / pop for n, r in results.items()},
        "users": {"train": num_users - 1, "items": num_items - 1},
        "load_average_start_end": [load[0], os.getloadavg()],
    })


if __name__ == "__main__":
    main()
