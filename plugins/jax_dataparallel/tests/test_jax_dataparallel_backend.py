"""jax_dataparallel on 2 virtual CPU devices: replicas, per-table optimizers, sharded tables,
per-process input. The backend runs in a subprocess (Keras fixes its backend at import)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rsx_plugins.jax_dataparallel import JaxDataParallelConfig, environment

PROBE = Path(__file__).with_name("backend_probe.py")


@pytest.fixture(scope="module")
def report():
    env = {**os.environ, **environment(JaxDataParallelConfig(cpu_devices=2))}
    result = subprocess.run([sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_two_devices_are_two_data_parallel_replicas(report):
    assert report["devices"] == 2
    assert report["distribution"] == "DataParallel"
    runtime = report["runtime"]
    assert (runtime["replicas"], runtime["device_count"], runtime["keras_backend"]) == (2, 2, "jax")
    assert runtime["tags"] == {"distribution": "DataParallel", "mesh": "batch:2", "embedding_placement": "replicated"}
    assert report["dp_table_spec"] == [None, None]  # every device holds the whole table
    assert report["inference_scope"] == "nullcontext"  # one process: predict needs nothing special


def test_devices_takes_a_mesh_of_the_first_devices_and_checks_the_count(report):
    assert report["devices_1"] == [1, 1, "batch:1"]
    assert report["devices_3_error"].startswith("backend.devices=3 but JAX found 2 devices")


def test_each_table_is_trained_by_its_own_optimizer_under_data_parallelism(report):
    # The user table has Adagrad(lr=1); everything else follows the dense SGD(lr=0).
    expected = {
        "embeddings/user_table/embeddings": True,
        "embeddings/movie_table/embeddings": False,
        "dense/kernel": False,
        "dense/bias": False,
    }
    assert report["dp_moved"] == expected
    assert report["sharded"]["moved"] == expected
    assert report["iterations"] == 10  # 2 epochs x 5 steps of a global batch of 8 over 40 rows


def test_shard_tables_splits_table_rows_and_their_optimizer_state_over_the_devices(report):
    sharded = report["sharded"]
    assert sharded["distribution"] == "ModelParallel"
    assert sharded["tags"]["embedding_placement"] == "sharded_over_devices"
    assert sharded["table_spec"] == ["batch", None]  # rows split over the 2 devices
    assert sharded["slot_specs"] == ["['batch', None]"]  # Adagrad's accumulator follows its table
    assert sharded["dense_spec"] == [None, None]  # dense layers stay replicated
    # Same initial values, same batches: the same training as with replicated tables.
    assert sharded["losses"] == pytest.approx(sharded["dp_losses"], rel=1e-5)


def test_shard_tables_pads_rows_to_a_multiple_of_the_devices(report):
    assert report["padded_rows"] == [10, 8]  # vocabularies 9 and 7 on 2 devices


@pytest.mark.parametrize("shuffle", [False, True])
def test_each_process_gathers_its_part_of_the_same_global_batches(report, shuffle):
    found = report[f"input_shuffle_{shuffle}"]
    # 103 rows in batches of 8: the short last batch of 7 is cut to 6 (a multiple of 2 devices).
    assert found["sizes"] == [8] * 12 + [6]
    assert found["cardinality"] == 13
    assert found["parts_make_whole"]  # process 0's part then process 1's = the global batch
    assert report["two_d_rows_follow_their_ids"]  # (batch, max_length) features travel whole
    assert found["part_sizes"] == [3, 4]
    assert found["same_as_tf_dataset"]  # the batches every other backend sees for this seed
