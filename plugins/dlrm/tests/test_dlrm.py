"""dlrm: conformance, config checks, and training on every kind of side feature."""

import dataclasses

import pytest

from rsx.api import ConfigError
from rsx.testing.conformance import ModelConformance
from rsx.testing.model_probe import probe
from rsx_plugins.dlrm.config import DlrmConfig, check


class TestDlrmConformance(ModelConformance):
    model = "dlrm"


def test_check_names_the_bad_target():
    with pytest.raises(ConfigError) as error:
        check(dataclasses.replace(DlrmConfig(), target="ordinal"))
    assert "model.target" in str(error.value)


def test_regression_on_every_feature_kind_beats_the_mean():
    result = probe(["model=dlrm", "trainer.batch_size=64", "trainer.epochs=2"])
    metrics = result["metrics"]
    assert metrics["test_rmse"] < metrics["baseline_test_rmse"], metrics


def test_binary_on_jax_logs_auc_and_log_loss():
    result = probe(["model=dlrm", "model.target=binary", "backend.keras_backend=jax",
                    "trainer.batch_size=64", "trainer.epochs=2"])
    metrics = result["metrics"]
    assert metrics["baseline_test_auc"] == 0.5
    assert metrics["test_auc"] > 0.6, metrics
    assert metrics["test_logloss"] < metrics["baseline_test_logloss"], metrics


def test_ids_only_model_without_numeric_features_trains():
    result = probe(["model=dlrm", "model.features=[]", "trainer.batch_size=64"])
    assert set(result["metrics"]) >= {"test_rmse", "baseline_test_rmse"}


def test_cli_names_a_feature_the_data_lacks_in_one_line(tmp_path):
    from rsx.testing.cli import explain, run_rsx

    result = run_rsx(["model=dlrm", "data=synthetic", "model.features=[mood]", "tracking.enabled=false"], tmp_path)
    assert result.returncode == 2, explain(result)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("rsx: error: model.features names 'mood'") and "Traceback" not in result.stderr


def test_check_runs_before_training_from_the_cli(tmp_path):
    from rsx.testing.cli import explain, run_rsx

    result = run_rsx(["model=dlrm", "data=synthetic", "model.target=ordinal", "tracking.enabled=false"], tmp_path)
    assert result.returncode == 2, explain(result)
    assert "model.target='ordinal'" in result.stderr.strip().splitlines()[-1]
