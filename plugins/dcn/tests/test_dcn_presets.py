"""The side-feature presets compose to the honest split and train on real data."""

import os
from pathlib import Path

import pytest

from rsx.testing.cli import explain, run_rsx, runs
from rsx.testing.compose import compose_config

#: ml-latest-small beside the repository (CI: <repo>/../shared), or where RSX_SHARED_DATA says.
LATEST_SMALL = Path(os.environ.get("RSX_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data")) / "ml-latest-small"


@pytest.mark.parametrize(
    "preset, model, variant, features",
    [
        ("movielens_dcn", "dcn", "100k", ["age", "gender", "occupation", "genres", "year"]),
        ("latest_small_dcn", "dcn", "latest_small", ["genres", "tags", "year"]),
        ("latest_small_dlrm", "dlrm", "latest_small", ["genres", "tags", "year"]),
        ("latest_small_ranking", "ranking", "latest_small", []),
    ],
)
def test_presets_keep_the_random_split_test_rows_and_stop_early_on_train_rows(preset, model, variant, features):
    cfg = compose_config([f"experiment={preset}"])
    assert (cfg.model.name, cfg.data.dataset, cfg.data.variant) == (model, "movielens", variant)
    assert (cfg.data.split, cfg.data.split_seed, cfg.data.train_fraction) == ("random", 42, 0.8)
    assert cfg.data.validation_from == "train"
    assert list(cfg.model.features) == features
    # Early stopping on the validation split picks the epoch, within a maximum.
    assert cfg.trainer.early_stopping_patience >= 1 and cfg.trainer.epochs >= 10


def test_movielens_dcn_runs_on_1m_too():
    cfg = compose_config(["experiment=movielens_dcn", "data.variant=1m"])
    assert cfg.data.variant == "1m" and cfg.model.name == "dcn"


@pytest.mark.slow
@pytest.mark.skipif(not (LATEST_SMALL / "ratings.csv").is_file(), reason="ml-latest-small not beside the repo")
def test_latest_small_dcn_beats_the_mean_predictor_in_one_epoch(tmp_path):
    result = run_rsx(["experiment=latest_small_dcn", f"data.path={LATEST_SMALL}", "trainer.epochs=1",
                      "trainer.verbose=0"], tmp_path, timeout=900)
    assert result.returncode == 0, explain(result)
    metrics = runs(tmp_path)[0].data.metrics
    assert metrics["test_rmse"] < 0.95 * metrics["baseline_test_rmse"], metrics
