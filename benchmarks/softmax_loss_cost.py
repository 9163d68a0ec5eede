"""Where an in-batch softmax step's time goes: the loss and its gradient alone, jitted in JAX.

    python benchmarks/softmax_loss_cost.py [--batch 1024] [--dim 64]

Gradient w.r.t. queries and candidates (B x d each) of: the logits' sum alone (the three
B x B x d matmuls), logits + log-sum-exp (the plain in-batch softmax), and the loss as
`plugins/two_tower/softmax.py` builds it (temperature, logQ, accidental hits pushed down,
positive first). Min over 15 rounds of 20 calls, interleaved (the machine is shared: other
jobs only ever slow a round down); the MSE two-tower's loss beside for scale.
Results: benchmarks/results/softmax_loss_cost.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from harness import write_results  # noqa: E402

OFFSET = float(np.finfo(np.float32).min) / 100.0


def losses(ids, probability):
    def mse(q, c):
        return jnp.mean((jnp.sum(q * c, 1) - 0.5) ** 2)

    def matmuls(q, c):
        return jnp.sum(q @ c.T)

    def log_sum_exp(q, c):
        return jnp.mean(jax.nn.logsumexp(q @ c.T, axis=1) - jnp.sum(q * c, 1))

    def rsx_softmax(q, c):  # The arrangement of InBatchSoftmax.call + positive_first_softmax_loss.
        q = q / 2.0
        logits, positive = q @ c.T, jnp.sum(q * c, 1, keepdims=True)
        log_q = jnp.log(probability[ids])
        logits, positive = logits - log_q[None, :], positive - log_q[:, None]
        negatives = jnp.where(ids[:, None] == ids[None, :], OFFSET, logits)
        return jnp.mean(-jax.nn.log_softmax(jnp.concatenate([positive, negatives], 1), 1)[:, 0])

    return {"mse": mse, "matmuls_only": matmuls, "logits_log_sum_exp": log_sum_exp, "rsx_softmax": rsx_softmax}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--dim", type=int, default=64)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    q, c = (jnp.asarray(rng.standard_normal((args.batch, args.dim)).astype(np.float32)) for _ in range(2))
    ids = jnp.asarray(rng.integers(1, 9000, args.batch).astype(np.int32))
    probability = jnp.asarray(rng.random(9724).astype(np.float32))
    steps = {name: jax.jit(jax.grad(f, argnums=(0, 1))) for name, f in losses(ids, probability).items()}
    for step in steps.values():
        jax.block_until_ready(step(q, c))
    best = dict.fromkeys(steps, float("inf"))
    load = os.getloadavg()[0]
    for _ in range(15):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(20):
                out = step(q, c)
            jax.block_until_ready(out)
            best[name] = min(best[name], (time.perf_counter() - start) / 20 * 1e3)
    for name, ms in best.items():
        print(f"{name:<20} {ms:6.2f} ms per loss + gradient")
    write_results("softmax_loss_cost", {
        "command": "python benchmarks/softmax_loss_cost.py " + " ".join(sys.argv[1:]),
        "batch": args.batch, "dim": args.dim, "ms_min_of_15_rounds": best,
        "load_average_1min": {"before": load, "after": os.getloadavg()[0]},
        "machine": f"{os.cpu_count()} CPU cores shared with other jobs, JAX on CPU",
    })


if __name__ == "__main__":
    main()
