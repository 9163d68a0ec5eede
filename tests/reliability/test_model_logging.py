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
    return request.param, workdir, run


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
    name, workdir, run = trained
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
    top = retrieval.recommend(towers, users, k=10, seen_pairs=(data.train["user_id"], data.train["item_id"]))
    print(json.dumps({{"top": top.item_ids.tolist()}}))
"""


@pytest.mark.parametrize("trained", ["two_tower"], indirect=True)
def test_two_tower_rebuilds_its_index_and_gives_the_same_top_10(trained):
    name, workdir, run = trained
    import mlflow

    client = mlflow.MlflowClient(tracking_uri(workdir))
    logged = json.loads(open(client.download_artifacts(run.info.run_id, "top_10.json", str(workdir))).read())
    assert logged["exclude_seen"] is True
    users = [u["user_id"] for u in logged["users"]]
    want = [[t["item_id"] for t in u["top"]] for u in logged["users"]]
    code = TOP_10.format(run_id=run.info.run_id, uri=tracking_uri(workdir), cache=str(workdir / ".rsx_cache"), users=users)
    got = fresh_python(code, "jax", workdir)["top"]
    assert [[m for m in row if m > 0] for row in got] == want
