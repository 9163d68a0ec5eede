"""rsx's Optuna sweeper for Hydra: `hydra/sweeper=rsx_optuna` (see README.md)."""
