"""Every bad override or out-of-range value ends in one line naming the key and the fix.

In-process through Hydra's compose API (cheap), plus a few real `python -m rsx` calls to see
what a user sees on stderr.
"""

import string
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rsx.app import register_everything
from rsx.cli_errors import one_line
from rsx.discovery import discover
from rsx.validation import validate

#: `${hydra:runtime.cwd}` only resolves inside a Hydra run; compose() has none.
URI = "tracking.uri=sqlite:///mlflow.db"


@pytest.fixture(scope="module", autouse=True)
def hydra_app():
    register_everything(discover())
    with initialize_config_module("rsx.conf", version_base="1.3"):
        yield


def outcome(overrides):
    """None when the overrides compose and validate, else the one line rsx would print."""
    composing = True
    try:
        cfg = compose("config", overrides=[*overrides, URI])
        composing = False
        validate(cfg)
    except Exception as error:  # noqa: BLE001 - the point: classify whatever is raised
        line = one_line(error, overrides, composing=composing)
        assert line is not None, f"{overrides} raised an unclassified {type(error).__name__}: {error}"
        return line
    return None


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["trainer.epochs=abc"], ["trainer.epochs", "Integer", "trainer.epochs=abc"]),
        (["trainer.epoch=3"], ["unknown key 'trainer.epoch'", "did you mean trainer.epochs?"]),
        (["+trainer.foo=1"], ["unknown key 'trainer.foo'", "valid keys of trainer"]),
        (["backend=nope"], ["unknown backend 'nope'", "choose one of:", "cpu_reference"]),
        (["model=nope"], ["unknown model 'nope'", "ranking"]),
        (["data=nope"], ["unknown data 'nope'", "synthetic"]),
        (["trainer.epochs=["], ["cannot parse the override 'trainer.epochs=['"]),
        (["trainer.seed=null"], ["trainer.seed cannot be null"]),
        (["model.hidden_units=3"], ["model.hidden_units"]),
        (["tracking.run_name=${nope}"], ["tracking.run_name: cannot resolve"]),
        (["trainer.epochs=0"], ["trainer.epochs=0 is out of range", "set trainer.epochs to >= 1"]),
        (["trainer.batch_size=-4"], ["trainer.batch_size=-4 is out of range"]),
        (["model.optimizer.learning_rate=-0.1"], ["model.optimizer.learning_rate=-0.1", "> 0"]),
        (["model.table_optimizer.learning_rate=0"], ["model.table_optimizer.learning_rate=0.0"]),
        (["model.optimizer.learning_rate=nan"], ["model.optimizer.learning_rate=nan is not a finite number"]),
        (["data=synthetic", "data.train_fraction=1.0"], ["data.train_fraction=1.0", "between 0 and 1"]),
        (["model.hidden_units=[8,0]"], ["model.hidden_units=[8, 0]"]),
        (["~trainer"], ["no trainer section"]),
        (["backend=[1,2]"], ["cannot compose the config from: backend=[1,2]"]),
    ],
)
def test_bad_override_is_one_line_naming_the_key(overrides, expected):
    line = outcome(overrides)
    assert line is not None, f"{overrides} was accepted"
    assert "\n" not in line and " -> " in line, line
    for part in expected:
        assert part in line, f"{part!r} not in {line!r}"


def test_good_overrides_pass():
    assert outcome(["data=synthetic", "trainer.epochs=1", "model.hidden_units=[8]", "trainer.checkpoint=false"]) is None


KEYS = [
    "trainer.epochs", "trainer.batch_size", "trainer.seed", "trainer.validation_freq",
    "trainer.verbose", "trainer.shuffle", "trainer.global_batch_size", "trainer.checkpoint_dir",
    "model.embedding_dim", "model.hidden_units", "model.activation", "model.optimizer.learning_rate",
    "model.optimizer.name", "model.table_optimizer", "data.train_fraction", "data.num_users",
    "data.noise", "tracking.experiment", "tracking.run_name", "backend", "model", "data",
    "backend.keras_backend", "trainer.epoch", "trainer.nope", "foo", "model.optimizer.lr",
]
VALUES = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["null", "true", "false", "[]", "[1,2]", "[0]", "{a: 1}", "''", "nan", "-inf", "1e400"]),
    st.text(alphabet=string.ascii_letters + string.digits + " _-.:/$[]{},='\"\\", min_size=0, max_size=12),
)
OVERRIDES = st.tuples(
    st.sampled_from(["", "+", "++"]),
    st.one_of(st.sampled_from(KEYS), st.from_regex(r"[a-z]{1,6}(\.[a-z_]{1,8}){0,2}", fullmatch=True)),
    VALUES,
).map(lambda t: f"{t[0]}{t[1]}={t[2]}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OVERRIDES, min_size=1, max_size=3))
def test_random_overrides_compose_or_end_in_one_line(overrides):
    line = outcome(overrides)
    if line is not None:
        assert "\n" not in line and " -> " in line, line
        assert len(line) < 1000, line


def rsx(*overrides, env=None):
    import os

    return subprocess.run(
        [sys.executable, "-m", "rsx", *overrides],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "override, expected",
    [
        ("trainer.epoch=3", "rsx: error: unknown key 'trainer.epoch' -> did you mean trainer.epochs?"),
        ("backend=nope", "rsx: error: unknown backend 'nope' (key: backend) -> choose one of:"),
        ("trainer.batch_size=x", "rsx: error: trainer.batch_size: Value 'x'"),
    ],
)
def test_cli_prints_exactly_one_line(tmp_path, override, expected):
    result = rsx(override, f"hydra.run.dir={tmp_path}", env={"HYDRA_FULL_ERROR": ""})
    assert result.returncode == 2, result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr


def test_hydra_full_error_still_gives_the_traceback(tmp_path):
    result = rsx("trainer.epoch=3", f"hydra.run.dir={tmp_path}", env={"HYDRA_FULL_ERROR": "1"})
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ConfigCompositionException" in result.stderr
