"""What a rating model predicts: the rating itself (regression) or "liked it" (binary).

Both targets train on the prepared `rating` column (stars), so every backend's input
pipeline stays the same; the binary label `rating >= threshold` is derived inside the loss
and metrics. Regression errors are therefore in stars, directly comparable with classic
recommenders (Surprise's RMSE).
"""

from __future__ import annotations

import keras
import numpy as np

from rsx.model_inputs import TARGETS  # noqa: F401  (re-exported for rsx.api.engine)


def _liked(y_true, y_pred, threshold: float):
    """(batch,) ratings -> the binary label shaped like the (batch, 1) prediction."""
    liked = keras.ops.cast(keras.ops.greater_equal(y_true, threshold), y_pred.dtype)
    return keras.ops.reshape(liked, keras.ops.shape(y_pred))


@keras.saving.register_keras_serializable(package="rsx")
class LikedCrossentropy(keras.losses.Loss):
    """Log-loss of predicted probabilities against `rating >= threshold`.

    Args:
        threshold: the lowest rating that counts as a positive, in the rating's units.
    """

    def __init__(self, threshold: float = 4.0, name: str = "liked_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = float(threshold)

    def call(self, y_true, y_pred):
        return keras.losses.binary_crossentropy(_liked(y_true, y_pred, self.threshold), y_pred)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="rsx")
class LikedAUC(keras.metrics.AUC):
    """ROC AUC of predicted probabilities against `rating >= threshold`."""

    def __init__(self, threshold: float = 4.0, name: str = "auc", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(_liked(y_true, y_pred, self.threshold), y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="rsx")
class LikedLogLoss(keras.metrics.BinaryCrossentropy):
    """Mean log-loss against `rating >= threshold` (the loss, as a metric: `logloss`)."""

    def __init__(self, threshold: float = 4.0, name: str = "logloss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(_liked(y_true, y_pred, self.threshold), y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


def target_loss(target: str, threshold: float):
    """MSE on stars, or log-loss on `rating >= threshold`."""
    return keras.losses.MeanSquaredError() if target == "regression" else LikedCrossentropy(threshold)


def target_metrics(target: str, threshold: float) -> list:
    """`rmse` (stars) for regression; `auc` and `logloss` for binary."""
    if target == "regression":
        return [keras.metrics.RootMeanSquaredError(name="rmse")]
    return [LikedAUC(threshold), LikedLogLoss(threshold)]


def prediction_layer(
    target: str, train_ratings: np.ndarray, threshold: float, name: str = "prediction"
) -> keras.layers.Dense:
    """The last layer: a rating (bias starts at the training mean, so step one starts from
    the mean predictor rather than 0 stars) or a probability (bias starts at the training
    positive rate's logit)."""
    if target == "regression":
        start = float(np.mean(train_ratings))
        return keras.layers.Dense(1, bias_initializer=keras.initializers.Constant(start), name=name)
    rate = float(np.clip(np.mean(train_ratings >= threshold), 1e-4, 1 - 1e-4))
    start = float(np.log(rate / (1 - rate)))
    return keras.layers.Dense(
        1, activation="sigmoid", bias_initializer=keras.initializers.Constant(start), name=name
    )


def binary_baseline(train_ratings: np.ndarray, test_ratings: np.ndarray, threshold: float) -> dict[str, float]:
    """The bar a binary model must clear: predicting the training positive rate for everyone.

    Its test log-loss is the entropy of the test labels under that rate; its AUC is 0.5
    (a constant ranks nothing).
    """
    rate = float(np.clip(np.mean(train_ratings >= threshold), 1e-7, 1 - 1e-7))
    liked = test_ratings >= threshold
    logloss = float(-np.mean(np.where(liked, np.log(rate), np.log(1 - rate))))
    return {"baseline_test_logloss": logloss, "baseline_test_auc": 0.5, "train_positive_rate": rate}
