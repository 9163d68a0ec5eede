"""The TensorFlow half of tf_sparsecore, without a TPU: conversion, strategy selection, the
fallback's tags and per-table optimizers. `backend_probe.py` runs it all in one fresh
process (TensorFlow must not load into the pytest process); each test checks one part."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("backend_probe.py")


@pytest.fixture(scope="module")
def report():
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run([sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_tables_become_table_configs_with_their_own_optimizer(report):
    user = report["conversion"]["user_id"]
    assert user == {
        "feature": "user_id", "table": "user_table", "vocabulary_size": 11, "embedding_dim": 4,
        "combiner": "sum", "placement": "sparsecore", "optimizer": "Adam", "learning_rate": 0.01,
        "input_shape": [512], "output_shape": [512, 4], "max_ids": 300, "max_unique_ids": 200,
    }


def test_a_table_without_optimizer_gets_the_dense_optimizer(report):
    movie = report["conversion"]["item_id"]
    assert (movie["optimizer"], movie["learning_rate"]) == ("Adagrad", 0.05)
    assert movie["output_shape"] == [512, 6]


def test_table_configs_convert_to_sparsecore_tables_with_their_optimizers(report):
    """keras-rs's own conversion to TensorFlow's SparseCore configs, as on a 2-core TPU."""
    assert report["tpu_conversion"]["user_id"] == {
        "table": "user_table", "optimizer": "Adam", "learning_rate": 0.01, "per_replica_output_shape": [256],
    }
    assert report["tpu_conversion"]["item_id"]["optimizer"] == "Adagrad"
    assert report["tpu_conversion_stacking_disabled"] is False


def test_features_sharing_a_table_share_one_table_config(report):
    assert report["shared_table_is_one_object"]
    assert report["conversion"]["previous_item_id"]["table"] == "movie_table"


@pytest.mark.parametrize("case", ["auto_resolver_fails", "auto_init_fails"])
def test_auto_without_a_tpu_falls_back_once_and_says_so(report, case):
    selected = report["selection"][case]
    assert selected["resolver_calls"] == ["local"]
    assert selected["strategy_is_default"]
    assert selected["device_kind"] == "cpu" and selected["replicas"] == 1
    tags = selected["tags"]
    assert tags["tpu_fallback"] == "true"
    assert tags["embedding_placement"] == "default_device"
    assert tags["tpu_mode"] == "auto"
    assert "no TPU at backend.tpu_name='local'" in tags["fallback_reason"]
    assert len(selected["warnings"]) == 1 and "\n" not in selected["warnings"][0]
    assert "WITHOUT a TPU" in selected["warnings"][0]


def test_required_without_a_tpu_is_one_clear_error(report):
    selected = report["selection"]["required_resolver_fails"]
    assert selected["error"].startswith("backend.tpu=required but no TPU at backend.tpu_name='local'")
    assert "\n" not in selected["error"] and "backend.tpu=auto" in selected["error"]


def test_off_never_asks_for_a_tpu_and_does_not_warn(report):
    selected = report["selection"]["off"]
    assert selected["resolver_calls"] == [] and selected["warnings"] == []
    assert selected["tags"]["tpu_fallback"] == "true"
    assert selected["tags"]["fallback_reason"] == "backend.tpu=off"


def test_fallback_tables_are_trained_by_their_own_optimizer(report):
    training = report["fallback_training"]
    assert training["optimizer"] == "TableRoutedOptimizer"
    assert training["routed_tables"] == ["user_table"]
    # user_table: its own SGD(lr=1) moves it. movie_table (no optimizer) and the dense
    # layers follow the dense SGD(lr=0). Had routing missed the DistributedEmbedding
    # variable paths, user_table would not move either.
    assert training["moved"] == {
        "embeddings/distributed_embedding/movie_table/embeddings": False,
        "embeddings/distributed_embedding/user_table/embeddings": True,
        "dense/kernel": False,
        "dense/bias": False,
    }
    assert training["steps_run"] == 4


def test_batches_have_static_shapes(report):
    training = report["fallback_training"]
    assert training["train_batches"] == [4, 4]  # 10 rows at 4: the short batch is dropped
    # Evaluation keeps every row: the short batch is padded with 2 rows of weight zero.
    assert training["test_batches"] == [4, 4, 4]
    assert training["test_rows_counted"] == [4, 4, 2]


def test_reshuffled_batches_are_static_and_new_every_epoch(report):
    reshuffled = report["reshuffled"]
    assert reshuffled["cardinality"] == 15  # 1000 rows at 64, remainder dropped
    assert reshuffled["rows_per_epoch"] == [960] * 3
    assert reshuffled["distinct_rows_per_epoch"] == [960] * 3
    assert reshuffled["epochs_differ"]


def test_lookups_of_any_subset_and_batch_on_the_default_device(report):
    training = report["fallback_training"]
    assert training["symbolic_shapes"] == {"user_id": [None, 4], "item_id": [None, 4]}
    assert training["subset_lookup_shape"] == [7, 4]
    assert training["symbolic_subset_shape"] == [None, 4]
    assert training["tables"] == {"movie_table": [7, 4], "user_table": [11, 4]}


def test_sparsecore_limits_sum_over_stacked_tables(report):
    assert report["limits"]["max_ids"] == {"movie_table_user_table": 2000, "big": 1000}
    assert report["limits"]["max_unique_ids"] == {"movie_table_user_table": 600, "big": 300}


def test_a_saved_model_loads_and_predicts_the_same(report):
    assert report["saved_model_predicts_the_same"]
