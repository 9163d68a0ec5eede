"""dcn: Deep & Cross Network v2 over user/item ids and the data's side features."""

from rsx.api import ModelSpec

from .config import DcnConfig, check

spec = ModelSpec(
    name="dcn",
    config=DcnConfig,
    implementation="rsx_plugins.dcn.model:DcnModel",
    description="DCN-v2 (keras-rs FeatureCross) over ids + side features -> rating or liked",
    # The loss ranks both targets: MSE for regression (same order as RMSE), log-loss for binary.
    main_metric="test_loss",
    check=check,
)
