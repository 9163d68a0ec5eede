"""Every config group composes; bad keys, types and names are rejected with the key named."""

import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rsx.testing.compose import compose_config, registered



@pytest.fixture(scope="module")
def registry():
    return registered()


def _compose(overrides):
    return compose_config(overrides)


def test_primary_config_defaults(registry):
    cfg = _compose([])
    assert cfg.backend.name == "cpu_reference"
    assert cfg.model.name == "ranking"
    assert cfg.data.name == "movielens_100k"
    assert cfg.trainer.batch_size == 256
    assert cfg.tracking.enabled is True


@pytest.mark.parametrize("data", ["movielens_100k", "movielens_1m", "synthetic"])
def test_every_data_option_composes(registry, data):
    cfg = _compose([f"data={data}"])
    assert cfg.data.name == data


def test_every_plugin_pair_composes(registry):
    for backend in registry.names("backend"):
        for model in registry.names("model"):
            cfg = _compose([f"backend={backend}", f"model={model}"])
            assert (cfg.backend.name, cfg.model.name) == (backend, model)


def test_seed_ranking_preset_pins_the_tutorial(registry):
    cfg = _compose(["experiment=seed_ranking"])
    assert cfg.trainer.batch_size == 256 and cfg.trainer.epochs == 5
    assert cfg.model.embedding_dim == 32
    assert list(cfg.model.hidden_units) == [256, 64]
    assert (cfg.model.table_optimizer.name, cfg.model.optimizer.name) == ("adam", "adagrad")
    assert cfg.data.name == "movielens_100k"


@pytest.mark.parametrize("preset, plugin", [("seed_ranking", "ranking"), ("seed_retrieval", "two_tower")])
def test_plugin_presets_come_from_the_plugins_own_conf_folder(registry, preset, plugin):
    """The search-path plugin (hydra_plugins/rsx_plugin_presets) puts `<plugin>/conf/` on
    Hydra's search path; rsx's own conf/ holds no experiment of that name."""
    cfg = compose_config([f"experiment={preset}"], return_hydra_config=True)
    sources = {s.provider: (s.schema, s.path) for s in cfg.hydra.runtime.config_sources}
    assert sources[f"rsx-plugin:rsx_plugins.{plugin}.conf"] == ("pkg", f"rsx_plugins.{plugin}.conf")
    assert cfg.model.name == plugin
    assert not (Path(__file__).parents[2] / "conf" / "experiment" / f"{preset}.yaml").exists()


def test_preset_values_can_still_be_overridden(registry):
    cfg = _compose(["experiment=seed_ranking", "trainer.epochs=2", "data=synthetic"])
    assert cfg.trainer.epochs == 2 and cfg.data.name == "synthetic"


@pytest.mark.parametrize(
    "override, key",
    [
        ("trainer.epochs=abc", "trainer.epochs"),
        ("backend.no_such_key=1", "backend.no_such_key"),
        ("model.embedding_dim=wide", "model.embedding_dim"),
        ("tracking.enabled=maybe", "tracking.enabled"),
    ],
)
def test_wrong_type_or_unknown_key_names_the_key(registry, override, key):
    with pytest.raises(Exception) as raised:
        _compose([override])
    assert key.split(".")[-1] in str(raised.value)


def test_unknown_backend_lists_the_available_ones(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rsx", "--cfg", "job", "backend=no_such_backend"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "no_such_backend" in result.stderr
    assert "cpu_reference" in result.stderr  # the available options are listed
    assert "Traceback" not in result.stderr


def test_resolved_tracking_uri_is_absolute_sqlite(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rsx", "--cfg", "job", "--resolve"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    uri = OmegaConf.create(result.stdout).tracking.uri
    assert uri == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
