"""dlrm: DLRM (bottom MLP, dot interactions, top MLP) over ids and the data's side features."""

from rsx.api import ModelSpec

from .config import DlrmConfig, check

spec = ModelSpec(
    name="dlrm",
    config=DlrmConfig,
    implementation="rsx_plugins.dlrm.model:DlrmModel",
    description="DLRM (keras-rs DotInteraction) over ids + side features -> rating or liked",
    # The loss ranks both targets: MSE for regression (same order as RMSE), log-loss for binary.
    main_metric="test_loss",
    check=check,
)
