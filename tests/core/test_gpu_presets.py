"""The GPU recipe: `experiment=ranking_large_batch` composes and validates on every backend,
and pins a global batch (the same training on any number of devices)."""

import pytest

from rsx.testing.compose import compose_config
from rsx.validation import validate

URI = "tracking.uri=sqlite:///mlflow.db"  # `${hydra:runtime.cwd}` resolves only inside a Hydra run


@pytest.mark.parametrize("backend", ["jax_dataparallel", "cpu_reference", "tf_sparsecore"])
def test_large_batch_preset_composes_and_validates(backend):
    cfg = compose_config(["experiment=ranking_large_batch", f"backend={backend}", URI])
    validate(cfg)
    assert cfg.model.name == "ranking"
    assert 16_384 <= cfg.trainer.global_batch_size <= 65_536
    assert cfg.trainer.steps_per_execution > 1
    # Scaled up from the tutorial's 0.001 at batch 256.
    assert cfg.model.optimizer.learning_rate > 0.001 and cfg.model.table_optimizer.learning_rate > 0.001
