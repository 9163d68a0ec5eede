"""The trained model is logged to its MLflow run and loads back in a fresh process.

`rsx.serving.load_model(run_id)` must give the predictions the model made before it was
saved (stored beside it as an example), on the Keras backend it was trained on and on the
other one; for two_tower the loaded model rebuilds the brute-force retrieval index and
returns the same top-10 as the run's `top_10.json` artifact.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs, tracking_uri

TRAINED = {
    "ranking": ("model=ranking", "backend=cpu_reference", "backend.keras_backend=tensorflow"),
    "two_tower": ("model=two_tower", "backend=cpu_reference", "backend.keras_backend=jax"),
}


@pytest.fixture(scope="module", params=list(TRAINED))
def trained(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(request.param)
    result = run_rsx([*TRAINED[request.param], *SMALL_RUN, "trainer.epochs=1"], workdir)
    assert result.returncode == 0, explain(result)
    (run,) = runs(workdir)
    return request.param, workdir, run, result


def fresh_python(code: str, keras_backend: str, workdir) -> dict:
    """Runs `code` in a new interpreter; it prints one JSON line as its last output."""
    env = {**os.environ, "KERAS_BACKEND": keras_backend, "RSX_HOME": str(workdir)}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300, env=env, cwd=workdir
    )
    assert result.returncode == 0, explain(result)
    return json.loads(result.stdout.strip().splitlines()[-1])


LOAD_AND_PREDICT = """
    import json, sys
    import numpy as np
    from rsx.serving import describe, download, load_folder
    folder = download({run_id!r}, {uri!r})
    info = describe(folder)
    model = load_folder(folder)
    inputs = {{k: np.asarray(v, dtype="int32") for k, v in info["example"]["inputs"].items()}}
    got = np.asarray(model.predict(inputs, batch_size=len(next(iter(inputs.values()))), verbose=0))
    want = np.asarray(info["example"]["predictions"])
    print(json.dumps({{"shape": list(got.shape), "max_abs_diff": float(np.max(np.abs(got - want))),
                       "backend": __import__("keras").config.backend(), "model": info["model"]}}))
"""


@pytest.mark.parametrize("keras_backend", ["tensorflow", "jax"])
def test_logged_model_predicts_the_same_in_a_fresh_process(trained, keras_backend):
    name, workdir, run, _ = trained
    assert run.data.tags["rsx.model"] == "model/model.keras"
    out = fresh_python(LOAD_AND_PREDICT.format(run_id=run.info.run_id, uri=tracking_uri(workdir)), keras_backend, workdir)
    assert out["backend"] == keras_backend and out["model"] == name
    assert out["shape"][0] >= 16
    assert out["max_abs_diff"] < 1e-5, out
    print(f"{name} trained on {TRAINED[name][2]}, loaded on {keras_backend}: max |diff| {out['max_abs_diff']:.2e}")


TOP_10 = """
    import json
    import numpy as np
    from omegaconf import OmegaConf
    from rsx_plugins.synthetic.config import SyntheticConfig
    from rsx.data import load_prepared
    from rsx.serving import describe, download, load_folder
    from rsx_plugins.two_tower import model as two_tower
    from rsx_plugins.two_tower import retrieval
    folder = download({run_id!r}, {uri!r})
    info = describe(folder)
    model = load_folder(folder)
    data = load_prepared(OmegaConf.structured(SyntheticConfig(num_users=200, num_items=100, num_interactions=8000)),
                         cache_root={cache!r})
    towers = retrieval.Towers(model, two_tower.USER_TOWER, two_tower.CANDIDATE_TOWER,
                              num_movies=info["vocabulary_sizes"]["item_id"], batch_size=info["global_batch_size"])
    users = np.array({users!r}, dtype="int32")
    from rsx.engine.retrieval_eval import seen_pairs
    # What the artifact leaves out: items known before the test split (train and validation).
    top = retrieval.recommend(towers, users, k=10, seen_pairs=seen_pairs(data, "test"))
    print(json.dumps({{"top": top.item_ids.tolist()}}))
"""


@pytest.mark.parametrize("trained", ["two_tower"], indirect=True)
def test_two_tower_rebuilds_its_index_and_gives_the_same_top_10(trained):
    name, workdir, run, _ = trained
    import mlflow

    client = mlflow.MlflowClient(tracking_uri(workdir))
    logged = json.loads(open(client.download_artifacts(run.info.run_id, "top_10.json", str(workdir))).read())
    assert logged["exclude_seen"] is True
    users = [u["user_id"] for u in logged["users"]]
    want = [[t["item_id"] for t in u["top"]] for u in logged["users"]]
    code = TOP_10.format(run_id=run.info.run_id, uri=tracking_uri(workdir), cache=str(workdir / ".rsx_cache"), users=users)
    got = fresh_python(code, "jax", workdir)["top"]
    assert [[m for m in row if m > 0] for row in got] == want


PYFUNC = """
    import json
    import mlflow
    import numpy as np
    import pandas as pd
    from rsx.serving import describe, download
    mlflow.set_tracking_uri({uri!r})
    info = describe(download({run_id!r}, {uri!r}))
    model = mlflow.pyfunc.load_model("runs:/{run_id}/model")
    frame = pd.DataFrame(info["example"]["inputs"])
    got = np.asarray(model.predict(frame))
    want = np.asarray(info["example"]["predictions"]).reshape(len(frame), -1)[:, 0]
    requirements = open(mlflow.pyfunc.get_model_dependencies("runs:/{run_id}/model")).read().split()
    print(json.dumps({{"shape": list(got.shape), "max_abs_diff": float(np.max(np.abs(got - want))),
                       "requirements": requirements}}))
"""


def test_the_run_holds_an_mlflow_pyfunc_model_that_predicts_the_same(trained):
    name, workdir, run, _ = trained
    keras_backend = TRAINED[name][2].split("=")[1]
    out = fresh_python(PYFUNC.format(run_id=run.info.run_id, uri=tracking_uri(workdir)), keras_backend, workdir)
    assert out["shape"][0] >= 16 and len(out["shape"]) == 1
    assert out["max_abs_diff"] < 1e-5, out
    pinned = {r.split("==")[0] for r in out["requirements"]}
    assert {"keras", "keras-rs", "rsx", "numpy"} <= pinned, out["requirements"]
    assert "jax" in pinned if keras_backend == "jax" else {"tensorflow", "tensorflow-cpu"} & pinned, out["requirements"]
    import mlflow

    client = mlflow.MlflowClient(tracking_uri(workdir))
    (logged,) = client.search_logged_models([run.info.experiment_id])  # the UI's Models column
    assert logged.source_run_id == run.info.run_id and logged.name == "model"


def test_the_last_console_line_says_where_the_run_went(trained):
    name, workdir, run, result = trained
    last = [line for line in result.stdout.splitlines() if line.strip()][-1]
    assert last.startswith(f"rsx: MLflow run {run.info.run_id} FINISHED in experiment 'rsx'"), last
    assert last.endswith(f"mlflow ui --backend-store-uri {tracking_uri(workdir)}"), last
    import mlflow

    experiment = mlflow.MlflowClient(tracking_uri(workdir)).get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
