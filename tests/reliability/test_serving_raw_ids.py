"""`rsx.serving.load` takes raw ids: unknown ones are row 0 (or one-line error) on every backend.

Issue 10 fault 11: through the bare Keras model, an id outside a table gave NaN or the last
row on JAX and an InvalidArgumentError on TensorFlow. The vocabulary saved with the model
maps raw ids (text ids here) to rows, and anything it lacks to the out-of-vocabulary row.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from rsx.testing.cli import explain, run_rsx, runs, tracking_uri


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("served")
    # A multi-hot item feature too: the logged models must carry it and gather it by item id.
    genres = {n: "|".join(g for g, on in (("a", n % 2), ("b", n % 3 == 0), ("c", True)) if on) for n in range(19)}
    rows = ["who,what,stars,genre"] + [
        f"user-{n % 31},item-{(n * 7) % 19},{1 + (n % 31 + n % 19) % 5},{genres[(n * 7) % 19]}" for n in range(3000)]
    (workdir / "ratings.csv").write_text("\n".join(rows) + "\n")
    result = run_rsx(["data=interactions", f"data.path={workdir / 'ratings.csv'}", "data.columns.user=who",
                      "data.columns.item=what", "data.columns.rating=stars", "model=ranking",
                      '+data.features.genre={kind:multi_hot,entity:item,separator:"|"}', "model.features=[genre]",
                      "trainer.epochs=1", "trainer.batch_size=64", "trainer.verbose=0"], workdir)
    assert result.returncode == 0, explain(result)
    (run,) = runs(workdir)
    return workdir, run.info.run_id


SERVE = """
    import json
    import numpy as np
    from rsx.errors import RsxError
    from rsx.serving import load
    served = load({run_id!r}, {uri!r})
    raw = served.predict({{"user_id": ["user-3", "nobody", "user-3"], "item_id": ["item-5", "item-5", "no-item"]}})
    known = served.mapper.encode({{"user_id": ["user-3"], "item_id": ["item-5"]}})
    u, i = int(known["user_id"][0]), int(known["item_id"][0])
    genre = served.mapper.encode({{"user_id": ["user-3"] * 3, "item_id": ["item-5", "item-5", "no-item"]}})["genre"]
    rows = served.model.predict({{"user_id": np.array([u, 0, u], "int32"), "item_id": np.array([i, i, 0], "int32"),
                                 "genre": genre}}, verbose=0)
    import mlflow
    import pandas as pd
    mlflow.set_tracking_uri({uri!r})
    pyfunc = mlflow.pyfunc.load_model("runs:/{run_id}/model").predict(
        pd.DataFrame({{"user_id": ["user-3", "nobody", "user-3"], "item_id": ["item-5", "item-5", "no-item"]}}))
    try:
        load({run_id!r}, {uri!r}, unknown="raise").predict({{"user_id": ["nobody"], "item_id": ["item-5"]}})
        error = None
    except RsxError as e:
        error = str(e)
    print(json.dumps({{"raw": np.asarray(raw).ravel().tolist(), "rows": np.asarray(rows).ravel().tolist(),
                       "pyfunc": np.asarray(pyfunc).ravel().tolist(), "error": error}}))
"""


@pytest.mark.parametrize("keras_backend", ["tensorflow", "jax"])
def test_unknown_raw_ids_are_the_oov_row_or_one_line(trained, keras_backend):
    workdir, run_id = trained
    env = {**os.environ, "KERAS_BACKEND": keras_backend}
    code = textwrap.dedent(SERVE.format(run_id=run_id, uri=tracking_uri(workdir)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, explain(result)
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(abs(v) < 1e6 for v in got["raw"])  # finite, no NaN
    assert got["raw"] == pytest.approx(got["rows"], abs=1e-5)  # unknown = row 0, exactly
    assert got["pyfunc"] == pytest.approx(got["raw"], abs=1e-5)  # the MLflow model takes raw ids too
    assert got["error"].startswith("feature 'user_id': id 'nobody' is not in the vocabulary (31 known ids")
    assert "\n" not in got["error"]


def test_raw_tutorial_ids_outside_the_table_are_row_0():
    import numpy as np

    from rsx.serving import IdMapper

    info = {"features": ["user_id", "item_id"], "vocabulary_sizes": {"user_id": 11, "item_id": 6}}
    mapper = IdMapper({}, info)
    rows = mapper.encode({"user_id": np.array([3, -1, 11]), "item_id": np.array([5, 6, 0])})
    assert rows["user_id"].tolist() == [3, 0, 0] and rows["item_id"].tolist() == [5, 0, 0]
    with pytest.raises(Exception, match=r"feature 'item_id': id 6 is outside 1..5"):
        IdMapper({}, info, unknown="raise").encode({"user_id": np.array([3]), "item_id": np.array([6])})
