"""The shared retrieval evaluation (rsx.engine.retrieval_eval) on a hand-worked example with
ties, a seen item, and users without relevant items, on both Keras backends (in a subprocess:
Keras fixes its backend at import)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("retrieval_eval_probe.py")


@pytest.fixture(scope="module", params=["jax", "tensorflow"])
def report(request):
    env = {**os.environ, "KERAS_BACKEND": request.param, "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_metrics_match_the_hand_worked_example(report):
    # user 1: item 1 seen (left out), 2 and 3 tie (lower row first) -> ranking 2, 3, 4, 5;
    #         relevant 3 at rank 2.  user 2: all tie -> 1, 2, 3, 4, 5; relevant 4 and 5.
    # At k=2: user 1 recall 1, ndcg 1/log2(3), mrr 1/2, precision 1/2, hit 1; user 2 all 0.
    # At k=5: user 2 finds 4 (rank 4) and 5 (rank 5): ndcg (1/log2(5) + 1/log2(6)) / (1 + 1/log2(3)).
    metrics = report["chunk_1024"]
    assert metrics["test_recall_at_2"] == pytest.approx(0.5)
    assert metrics["test_ndcg_at_2"] == pytest.approx(0.5 / math.log2(3))
    assert metrics["test_mrr_at_2"] == pytest.approx(0.25)
    assert metrics["test_precision_at_2"] == pytest.approx(0.25)
    assert metrics["test_hit_rate_at_2"] == pytest.approx(0.5)
    user2_ndcg5 = (1 / math.log2(5) + 1 / math.log2(6)) / (1 + 1 / math.log2(3))
    assert metrics["test_ndcg_at_5"] == pytest.approx((1 / math.log2(3) + user2_ndcg5) / 2, abs=1e-6)
    assert metrics["test_recall_at_5"] == pytest.approx(1.0)
    assert metrics["test_mrr_at_5"] == pytest.approx((0.5 + 0.25) / 2)


def test_users_without_relevant_items_are_excluded_and_counted(report):
    # user 3 has only a rating of 2; user 4's relevant item was seen in training.
    metrics = report["chunk_1024"]
    assert (metrics["test_retrieval_users"], metrics["test_retrieval_users_excluded"]) == (2, 2)


def test_chunks_over_users_give_the_same_numbers(report):
    assert report["chunk_1"] == pytest.approx(report["chunk_1024"])


def test_a_threshold_no_row_passes_leaves_metrics_missing_with_a_warning(report):
    assert report["none_pass"] == {"test_retrieval_users": 0.0, "test_retrieval_users_excluded": 4.0}
    assert any("metrics are missing" in w and "model.relevant_rating" in w for w in report["warnings"])


def test_k_past_the_catalogue_is_one_line_naming_the_key(report):
    assert report["k_error"] == (
        "model.metrics_k has k=10 but the catalogue has 5 items -> use cut-offs between 1 and 5, "
        "e.g. 'model.metrics_k=[5]'")
