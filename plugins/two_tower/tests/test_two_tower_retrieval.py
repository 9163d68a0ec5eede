"""two_tower's model and retrieval on small hand-made data: the towers, the score, recall and
nDCG against a NumPy reference, top-k without seen movies, the artifact. Keras runs in a
subprocess (it fixes its backend at import)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("retrieval_probe.py")


@pytest.fixture(scope="module")
def report():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_tables_are_sized_from_the_data_and_trained_by_the_model_optimizer(report):
    assert report["tables"] == [["user_table", 13, 32, None], ["movie_table", 31, 32, None]]
    assert report["features"] == [["user_id", "user_table"], ["item_id", "movie_table"]]
    assert report["optimizer"] == ["adam", 0.01]


def test_retrieval_vectors_come_through_the_towers(report):
    # No Dense layers: the towers' outputs are the table rows (padding to whole batches of
    # the global batch size changes nothing).
    assert report["candidates_are_table_rows"]
    assert report["users_are_table_rows"]


def test_score_is_the_dot_product_of_the_towers(report):
    assert report["score_is_tower_dot_product"]
    assert report["tower_width"] == [9, 8]  # user_layers=[16, 8], candidate_layers=[8]


def test_recall_and_ndcg_match_a_numpy_reference(report):
    quality, numpy = report["quality"], report["numpy"]
    assert quality["users"] == numpy["users"] > 0
    assert quality["recall"] == pytest.approx(numpy["recall"], abs=1e-6)
    assert quality["ndcg"] == pytest.approx(numpy["ndcg"], abs=1e-6)
    assert report["extra"] == {
        "test_recall_at_5": pytest.approx(numpy["recall"], abs=1e-6),
        "test_ndcg_at_5": pytest.approx(numpy["ndcg"], abs=1e-6),
        "test_retrieval_users": numpy["users"],
    }


def test_top_k_leaves_out_seen_movies_best_first(report):
    assert report["top_ids"] == report["expected_top_ids"]
    assert report["top_sorted"] and report["top_unseen"]


def test_artifact_lists_titles_as_text_and_json(report):
    assert report["artifact_names"] == ["top_5.json", "top_5.txt"]
    assert report["artifact_users"] == [1, 2, 3, 4, 5]
    first = report["json"]["users"][0]
    assert first["user_id"] == 2 and [m["rank"] for m in first["top"]] == [1, 2, 3, 4, 5]
    assert first["top"][0]["title"] == f"Movie {report['top_ids'][0][0]}"
    assert f"1. Movie {report['top_ids'][0][0]}" in report["text"]
    assert "movies rated in training left out" in report["text"]

