"""two_tower passes the model conformance suite; its spec, config and preset compose without a framework."""

import pytest

from rsx.testing.compose import compose_config, registered
from rsx.testing.conformance import ModelConformance


class TestTwoTowerConformance(ModelConformance):
    model = "two_tower"


@pytest.fixture(scope="module")
def registry():
    return registered()


def _compose(overrides):
    return compose_config(overrides)


def test_runs_are_ranked_by_recall_at_10(registry):
    spec = registry.model("two_tower")
    assert (spec.main_metric, spec.greater_is_better) == ("test_recall_at_10", True)


def test_seed_retrieval_pins_the_tutorial(registry):
    cfg = _compose(["experiment=seed_retrieval"])
    assert cfg.model.name == "two_tower" and cfg.data.name == "movielens_100k"
    assert cfg.trainer.global_batch_size == 1000  # 80 train steps on any number of devices
    assert (cfg.trainer.epochs, cfg.trainer.validation_freq, cfg.trainer.shuffle) == (50, 5, False)
    assert cfg.model.embedding_dim == 32
    assert list(cfg.model.user_layers) == [] and list(cfg.model.candidate_layers) == []
    assert (cfg.model.optimizer.name, cfg.model.optimizer.learning_rate) == ("adagrad", 0.2)
    assert cfg.model.table_optimizer is None and cfg.model.top_k == 10
    assert cfg.trainer.steps_per_execution == 10  # speed only: the same steps in the same order


def test_seed_retrieval_composes_with_the_data_parallel_backend(registry):
    cfg = _compose(["experiment=seed_retrieval", "backend=jax_dataparallel", "backend.cpu_devices=2"])
    assert (cfg.backend.name, cfg.backend.cpu_devices, cfg.model.name) == ("jax_dataparallel", 2, "two_tower")


def test_towers_of_different_widths_fail_the_spec_check_naming_both_keys(registry):
    from rsx.api import ConfigError
    from rsx_plugins.two_tower import TwoTowerConfig

    spec = registry.model("two_tower")
    with pytest.raises(ConfigError, match=r"model.user_layers=\[8\], model.candidate_layers=\[\]"):
        spec.check(TwoTowerConfig(user_layers=[8], candidate_layers=[]))
    spec.check(TwoTowerConfig(user_layers=[16, 8], candidate_layers=[8]))
