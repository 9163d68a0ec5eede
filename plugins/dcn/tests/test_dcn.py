"""dcn: conformance, config checks, and training on every kind of side feature."""

import dataclasses

import pytest

from rsx.api import ConfigError
from rsx.testing.conformance import ModelConformance
from rsx.testing.model_probe import probe
from rsx_plugins.dcn.config import DcnConfig, check


class TestDcnConformance(ModelConformance):
    model = "dcn"


@pytest.mark.parametrize(
    "change, key",
    [({"target": "ordinal"}, "model.target"), ({"structure": "side_by_side"}, "model.structure"),
     ({"cross_layers": 0}, "model.cross_layers"), ({"projection_dim": 0}, "model.projection_dim"),
     ({"dropout": 1.0}, "model.dropout")],
)
def test_check_names_the_bad_key(change, key):
    with pytest.raises(ConfigError) as error:
        check(dataclasses.replace(DcnConfig(), **change))
    assert key in str(error.value)


def test_defaults_pass_the_check():
    check(DcnConfig())


def test_regression_on_every_feature_kind_beats_the_mean():
    # Default features = all of the data's: categorical, multi-hot, numeric and sequence.
    result = probe(["model=dcn", "trainer.batch_size=64", "trainer.epochs=2"])
    metrics = result["metrics"]
    assert metrics["test_rmse"] < metrics["baseline_test_rmse"], metrics


def test_binary_parallel_low_rank_logs_auc_and_beats_the_positive_rate():
    result = probe(["model=dcn", "model.target=binary", "model.structure=parallel", "model.projection_dim=4",
                    "trainer.batch_size=64", "trainer.epochs=2"])
    metrics = result["metrics"]
    assert metrics["baseline_test_auc"] == 0.5
    assert metrics["test_auc"] > 0.6, metrics
    assert metrics["test_logloss"] < metrics["baseline_test_logloss"], metrics


def test_a_feature_missing_from_the_data_is_one_line():
    result = probe(["model=dcn", "model.features=[genres,tags]"])
    assert "'tags'" in result["error"] and "model.features" in result["error"]
