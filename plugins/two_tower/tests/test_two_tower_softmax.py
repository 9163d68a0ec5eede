"""two_tower's in-batch / sampled softmax pinned against NumPy on tiny batches (accidental
hits, logQ, hard negatives), the negatives under JAX DataParallel, and bad inputs. Keras runs
in a subprocess with 2 virtual CPU devices."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("softmax_probe.py")


@pytest.fixture(scope="module")
def report():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    result = subprocess.run([sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_in_batch_loss_matches_numpy_with_accidental_hits_and_logq(report):
    keras_loss, numpy_loss = report["in_batch"]
    assert keras_loss == pytest.approx(numpy_loss, rel=1e-5)
    # The batch has an accidental hit: keeping it changes the loss (keras-rs' own layer would not).
    assert report["no_hit_removal_differs"] != pytest.approx(keras_loss, rel=1e-4)


def test_loss_without_logq_matches_numpy(report):
    assert report["no_logq"][0] == pytest.approx(report["no_logq"][1], rel=1e-5)


def test_hard_negative_mining_keeps_the_highest_negatives(report):
    assert report["hard"][0] == pytest.approx(report["hard"][1], rel=1e-5)


def test_sampled_negatives_join_the_batch_with_their_own_logq(report):
    assert report["sampled"][0] == pytest.approx(report["sampled"][1], rel=1e-5)


def test_data_parallel_negatives_are_the_global_batch(report):
    dp = report["data_parallel"]
    assert dp["devices"] == 2
    assert dp["keras"] == pytest.approx(dp["global_batch"], rel=1e-5)
    assert dp["keras"] != pytest.approx(dp["per_device"], rel=1e-2)


def test_sampled_softmax_trains_and_is_evaluated(report):
    losses = report["sampled_losses"]
    assert len(losses) == 2 and losses[1] < losses[0]
    extra = report["sampled_extra"]
    assert extra["test_retrieval_users"] > 0 and 0 <= extra["test_recall_at_5"] <= 1
    assert 0 <= extra["baseline_test_recall_at_5"] <= 1


@pytest.mark.parametrize(
    "key, message",
    [
        ("top_k", "model.top_k=13 but the catalogue has 12 items -> use model.top_k between 1 and 12"),
        ("metrics_k", "model.metrics_k has k=13 but the catalogue has 12 items"),
        ("num_negatives", "model.num_negatives=13 but the catalogue has 12 items -> use at most 12"),
        ("loss", "model.loss='bpr' is not valid -> set model.loss to one of: mse, softmax, sampled_softmax"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(report, key, message):
    assert message in report[f"error_{key}"]


def test_early_stopping_watches_the_retrieval_validation_recall(report):
    stopping = report["early_stopping"]
    assert (stopping["monitor"], stopping["mode"]) == ("val_recall_at_5", "max")
    assert stopping["tags"] == {"rsx.early_stopping.monitor": "val_recall_at_5", "rsx.early_stopping.mode": "max"}
    recalls = [r for r in stopping["recalls"] if r is not None]
    assert recalls and stopping["best"] == max(recalls)  # It saw the callback's numbers, in its logs.


def test_side_features_enter_the_towers_and_retrieval_reads_their_tables(report):
    side = report["side_features"]
    # The history sequence is read as a bag (multi_hot), as contract v2 declares bags.
    assert side["kinds"] == {"user_id": "id", "item_id": "id", "history": "multi_hot", "genres": "multi_hot",
                             "year": "numeric"}
    assert side["candidates_changed"] == [2]  # item 3 (candidate row 2): its genres changed
    assert side["queries_changed"] == [1]  # user 2: its history changed
    assert side["extra"]["test_retrieval_users"] > 0 and 0 <= side["extra"]["test_recall_at_5"] <= 1


def test_side_features_bad_config_is_one_line(report):
    assert "model.user_features names 'genres', which is not a per-user side feature" in report["error_side_entity"]
    assert "model.item_features with model.loss=sampled_softmax is not supported" in report["error_side_sampled"]
