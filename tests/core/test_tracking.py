"""Config -> MLflow params: dotted keys, MLflow's limits, no credentials."""

from rsx.tracking import MAX_PARAM_VALUE, flatten, params_from_config, redact


def test_flatten_uses_dotted_keys_and_list_indices():
    assert flatten({"a": {"b": 1, "c": [10, {"d": 2}]}, "e": None}) == {
        "a.b": 1, "a.c.0": 10, "a.c.1.d": 2, "e": None,
    }


def test_params_are_strings_within_mlflow_limits():
    params = params_from_config({"model": {"units": [256, 64]}, "long": "x" * 10_000, "none": None})
    assert params["model.units.0"] == "256"
    assert params["none"] == "null"
    assert len(params["long"]) == MAX_PARAM_VALUE


def test_credentials_in_uris_are_redacted():
    assert redact("https://alice:s3cret@mlflow.example:5000/x") == "https://***@mlflow.example:5000/x"
    assert redact("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"
    params = params_from_config({"tracking": {"uri": "http://bob:pw@host:5000"}, "db": {"password": "hunter2"}})
    assert "pw" not in params["tracking.uri"] and "bob" not in params["tracking.uri"]
    assert params["db.password"] == "***"
