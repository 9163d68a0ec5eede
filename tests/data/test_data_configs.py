"""conf/data/*.yaml hold only schema keys and prepare through `load_prepared` as composed."""

from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from rsx_plugins.movielens.config import MovieLensConfig
from rsx_plugins.synthetic.config import SyntheticConfig
from rsx.data import load_prepared

CONF = Path(__file__).resolve().parents[2] / "conf" / "data"
SCHEMAS = {"_schema_movielens": MovieLensConfig, "_schema_synthetic": SyntheticConfig}


def _compose(name: str, **overrides):
    """What Hydra builds for `data=<name>`: the stored schema, then the file (`_self_`)."""
    values = yaml.safe_load((CONF / f"{name}.yaml").read_text())
    (schema_name,) = [d for d in values.pop("defaults") if d != "_self_"]
    cfg = OmegaConf.merge(OmegaConf.structured(SCHEMAS[schema_name]), values, overrides)
    assert cfg.name == name  # the file name is the dataset name users see in tags
    return cfg


@pytest.mark.parametrize("name, variant", [("movielens_100k", "100k"), ("movielens_1m", "1m")])
def test_movielens_configs(name, variant):
    cfg = _compose(name)
    assert cfg.variant == variant and cfg.source == "tfds"
    assert (cfg.shuffle_buffer, cfg.split_seed, cfg.train_fraction) == (100_000, 42, 0.8)


def test_synthetic_config_prepares(tmp_path):
    cfg = _compose("synthetic", num_interactions=1_000, cache_dir=str(tmp_path))
    data = load_prepared(cfg, cache_root=None)
    assert (data.name, data.num_train, data.num_validation, data.num_test) == ("synthetic", 720, 80, 200)
    assert data.vocabulary_sizes == {"user_id": 1_001, "item_id": 501}
    assert len(list(tmp_path.iterdir())) == 1
