"""synthetic: interactions with a planted low-rank preference and side features (no files)."""

from rsx.api import DatasetSpec

from .config import SyntheticConfig

spec = DatasetSpec(
    name="synthetic",
    config=SyntheticConfig,
    implementation="rsx_plugins.synthetic.generate:prepare_synthetic",
    description="generated interactions with a planted preference and side features (any size)",
)
