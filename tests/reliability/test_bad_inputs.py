"""Each bad input ends in one line on stderr that names the input and the fix, exit code 2,
and the MLflow run (when one was started) FAILED with that line as its `failure` tag."""

import socket
import time

import pytest
from omegaconf import OmegaConf

from rsx_plugins.synthetic.config import SyntheticConfig
from rsx.discovery import discover
from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs

SIZES = dict(num_users=200, num_items=100, num_interactions=8000)  # as in SMALL_RUN
BACKENDS = {"tensorflow": "backend.keras_backend=tensorflow", "jax": "backend.keras_backend=jax"}


def error_line(result) -> str:
    """The one `rsx: error:` line; fails if there is none or several."""
    lines = [l for l in result.stderr.splitlines() if l.startswith("rsx: error:")]
    assert len(lines) == 1, explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    return lines[0]


def assert_failed_with(workdir, line: str) -> None:
    (run,) = runs(workdir)
    assert run.info.status == "FAILED"
    assert run.data.tags["failure"] in line


def poison_cache(workdir, feature: str, bad_id: int) -> int:
    """Writes SMALL_RUN's prepared data into the cache with one test id replaced by `bad_id`;
    returns the table size. (Real preparation sizes tables from the data, so only a stale or
    foreign cache, or a model with fixed table sizes, can hold such ids.)"""
    from rsx.data import cache, load_prepared
    from rsx.data.loading import cache_key, typed_config

    cfg = OmegaConf.structured(SyntheticConfig(**SIZES))
    root = str(workdir / ".rsx_cache")
    data = load_prepared(cfg, cache_root=root)
    data.test[feature][5] = bad_id
    data.save(cache.cache_file(root, "synthetic", cache_key(typed_config(cfg))))
    return data.vocabulary_sizes[feature]


@pytest.mark.parametrize("keras_backend", list(BACKENDS))
def test_ids_outside_the_table(tmp_path, keras_backend):
    # JAX would silently look up NaN rows (id past the end) or wrap a negative id.
    bad = {"tensorflow": 10_000, "jax": -3}[keras_backend]
    size = poison_cache(tmp_path, "item_id", bad)
    result = run_rsx(["model=ranking", BACKENDS[keras_backend], *SMALL_RUN], tmp_path)
    assert result.returncode == 2, explain(result)
    line = error_line(result)
    assert f"feature 'item_id' has id {bad} in the test split, outside table 'movie_table' of {size} rows" in line
    assert_failed_with(tmp_path, line)


def test_data_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere" / "ml-100k"
    result = run_rsx(["data=movielens_100k", "data.source=files", f"data.path={missing}", "trainer.verbose=0"], tmp_path)
    assert result.returncode == 2, explain(result)
    line = error_line(result)
    assert f"data.path={missing} does not exist ->" in line
    assert_failed_with(tmp_path, line)


def test_malformed_rows_name_file_and_line(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("1\t1\t5\t881250949\n2\t2\t3\t881250949\n3\tthree\t4\t881250949\n")
    (folder / "u.item").write_text("1|Toy Story (1995)|\n2|GoldenEye (1995)|\n3|Four Rooms (1995)|\n")
    result = run_rsx(["data=movielens_100k", "data.source=files", f"data.path={folder}", "trainer.verbose=0"], tmp_path)
    assert result.returncode == 2, explain(result)
    line = error_line(result)
    assert "u.data line 3" in line and "'three'" in line, line
    assert_failed_with(tmp_path, line)


@pytest.mark.parametrize("keras_backend", list(BACKENDS))
def test_nan_loss_stops_and_says_where(tmp_path, keras_backend):
    huge = ["model.optimizer.learning_rate=1e30", "model.table_optimizer.learning_rate=1e30"]
    result = run_rsx(["model=ranking", BACKENDS[keras_backend], *SMALL_RUN, *huge], tmp_path)
    assert result.returncode == 2, explain(result)
    line = error_line(result)
    assert "training loss became NaN/inf at epoch 1, step" in line and "lower the learning rates" in line
    assert_failed_with(tmp_path, line)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # Closed again on exit: connections are refused.


def test_unreachable_tracking_uri_fails_fast_before_data(tmp_path):
    uri = f"http://alice:hunter2-secret@127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    result = run_rsx(["model=ranking", *SMALL_RUN, f"tracking.uri={uri}"], tmp_path, timeout=120)
    elapsed = time.monotonic() - start
    assert result.returncode == 2, explain(result)
    line = error_line(result)
    assert "cannot reach MLflow at tracking.uri=http://***@127.0.0.1:" in line, line
    assert "hunter2" not in result.stderr + result.stdout
    assert not (tmp_path / ".rsx_cache").exists(), "data was prepared before MLflow was checked"
    print(f"unreachable MLflow reported after {elapsed:.1f} s")


@pytest.mark.skipif("jax_dataparallel" not in discover().names("backend"), reason="needs jax_dataparallel")
def test_global_batch_that_does_not_divide_over_replicas(tmp_path):
    result = run_rsx(
        ["backend=jax_dataparallel", "backend.cpu_devices=2", *SMALL_RUN, "trainer.global_batch_size=65"], tmp_path
    )
    assert result.returncode == 2, explain(result)
    line = error_line(result)
    assert "trainer.global_batch_size=65" in line and "2 replicas" in line
    assert_failed_with(tmp_path, line)


def test_unknown_keras_name_in_the_model_config(tmp_path):
    result = run_rsx(["model=ranking", *SMALL_RUN, "model.optimizer.name=adamm"], tmp_path)
    assert result.returncode == 2, explain(result)
    line = error_line(result)
    assert "Could not interpret optimizer identifier: adamm" in line and "model.optimizer.name=" in line
    assert_failed_with(tmp_path, line)
