"""`trainer.dtype_policy`: checked before anything starts, and mixed_bfloat16 trains, with the
hidden layers in bfloat16 and the model's output in float32 (Keras' mixed-precision advice)."""

import json
import zipfile

import pytest

from rsx.errors import ConfigError
from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs, tracking_uri
from rsx.testing.compose import compose_config
from rsx.validation import validate


def test_an_unknown_policy_is_one_line_naming_the_key():
    with pytest.raises(ConfigError, match=r"trainer.dtype_policy='float64' is out of range -> .*mixed_bfloat16"):
        validate(compose_config(["trainer.dtype_policy=float64", "tracking.uri=sqlite:///mlflow.db"]))


def _layer_policies(workdir, run) -> dict[str, str]:
    """{layer name: dtype policy} from the run's saved `.keras` file (its config.json)."""
    from rsx.serving import MODEL_FILE, _files, download

    folder = download(run.info.run_id, tracking_uri(workdir), str(workdir))
    path = f"{_files(folder)}/{MODEL_FILE}"
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    policies = {}
    for layer in config["config"]["layers"]:
        dtype = layer["config"].get("dtype")
        if isinstance(dtype, dict):
            policies[layer["config"]["name"]] = dtype["config"]["name"]
    return policies


def test_mixed_bfloat16_trains_with_a_float32_output(tmp_path):
    result = run_rsx(
        ["backend=jax_dataparallel", "model=ranking", "trainer.dtype_policy=mixed_bfloat16", *SMALL_RUN], tmp_path
    )
    assert result.returncode == 0, explain(result)
    (run,) = runs(tmp_path)
    assert run.data.tags["dtype_policy"] == "mixed_bfloat16"
    metrics = run.data.metrics
    assert metrics["test_loss"] < metrics["baseline_test_mse"], metrics  # it still learns
    policies = _layer_policies(tmp_path, run)
    assert policies["hidden_0"] == "mixed_bfloat16" and policies["embeddings"] == "mixed_bfloat16"
    assert policies["rating"] == "float32"
