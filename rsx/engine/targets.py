"""What a rating model predicts: the rating itself (regression) or "liked it" (binary).

Both targets train on the prepared `rating` column (stars), so every backend's input
pipeline stays the same; the binary label `rating >= threshold` is derived inside the loss
and metrics. Regression errors are therefore in stars, directly comparable with classic
recommenders (Surprise's RMSE). Each target is one class holding everything that differs
between them: loss, metrics, last layer and the baseline to beat. The last layer computes in
float32 whatever `trainer.dtype_policy` says (Keras' mixed-precision guide: a 16-bit output
would round a rating to ~3 digits and saturate a sigmoid).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np


class _ScoredOnLiked:
    """A Keras loss or metric scored against the binary label `rating >= threshold`.

    Args:
        threshold: the lowest rating that counts as a positive, in the rating's units.
        name: the loss's or metric's name; None = the class's `default_name`.
    """

    default_name = ""

    def __init__(self, threshold: float = 4.0, name: str | None = None, **kwargs):
        super().__init__(name=name or self.default_name, **kwargs)
        self.threshold = float(threshold)

    def liked(self, y_true, y_pred):
        """(batch,) ratings -> the binary label, shaped and typed like the (batch, 1) prediction."""
        liked = keras.ops.cast(keras.ops.greater_equal(y_true, self.threshold), y_pred.dtype)
        return keras.ops.reshape(liked, keras.ops.shape(y_pred))

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="rsx")
class LikedCrossentropy(_ScoredOnLiked, keras.losses.Loss):
    """Log-loss of predicted probabilities against `rating >= threshold`."""

    default_name = "liked_crossentropy"

    def call(self, y_true, y_pred):
        return keras.losses.binary_crossentropy(self.liked(y_true, y_pred), y_pred)


class _LikedMetric(_ScoredOnLiked):
    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(self.liked(y_true, y_pred), y_pred, sample_weight)


@keras.saving.register_keras_serializable(package="rsx")
class LikedAUC(_LikedMetric, keras.metrics.AUC):
    """ROC AUC of predicted probabilities against `rating >= threshold`."""

    default_name = "auc"


@keras.saving.register_keras_serializable(package="rsx")
class LikedLogLoss(_LikedMetric, keras.metrics.BinaryCrossentropy):
    """Mean log-loss against `rating >= threshold` (the loss, as a metric: `logloss`)."""

    default_name = "logloss"


@dataclasses.dataclass(frozen=True)
class Regression:
    """Predict the rating in stars: MSE loss, `rmse` metric (stars).

    The last layer's bias starts at the training mean rating, so step one starts from the
    mean predictor rather than 0 stars. rsx logs that predictor's RMSE for every model, so
    `baseline` adds nothing.
    """

    def loss(self):
        return keras.losses.MeanSquaredError()

    def metrics(self) -> list:
        return [keras.metrics.RootMeanSquaredError(name="rmse")]

    def prediction_layer(self, train_ratings: np.ndarray) -> keras.layers.Dense:
        start = float(np.mean(train_ratings))
        return keras.layers.Dense(
            1, bias_initializer=keras.initializers.Constant(start), name="prediction", dtype="float32"
        )

    def baseline(self, train_ratings: np.ndarray, test_ratings: np.ndarray) -> dict[str, float]:
        return {}


@dataclasses.dataclass(frozen=True)
class Binary:
    """Predict P(rating >= threshold): log-loss loss, `auc` and `logloss` metrics.

    The last layer is a sigmoid whose bias starts at the logit of the training positive rate.
    """

    threshold: float

    def loss(self):
        return LikedCrossentropy(self.threshold)

    def metrics(self) -> list:
        return [LikedAUC(self.threshold), LikedLogLoss(self.threshold)]

    def prediction_layer(self, train_ratings: np.ndarray) -> keras.layers.Dense:
        rate = float(np.clip(np.mean(train_ratings >= self.threshold), 1e-4, 1 - 1e-4))
        start = float(np.log(rate / (1 - rate)))
        return keras.layers.Dense(
            1, activation="sigmoid", bias_initializer=keras.initializers.Constant(start), name="prediction",
            dtype="float32",
        )

    def baseline(self, train_ratings: np.ndarray, test_ratings: np.ndarray) -> dict[str, float]:
        """The bar a binary model must clear: predicting the training positive rate for everyone.

        Its test log-loss is the entropy of the test labels under that rate; its AUC is 0.5
        (a constant ranks nothing).
        """
        rate = float(np.clip(np.mean(train_ratings >= self.threshold), 1e-7, 1 - 1e-7))
        liked = test_ratings >= self.threshold
        logloss = float(-np.mean(np.where(liked, np.log(rate), np.log(1 - rate))))
        return {"baseline_test_logloss": logloss, "baseline_test_auc": 0.5, "train_positive_rate": rate}


def target_of(target: str, threshold: float) -> Regression | Binary:
    """The target a model config's `target` names (one of `rsx.model_inputs.TARGETS`, which
    `check_target` enforces); `threshold` (stars) matters to the binary one only."""
    return Binary(float(threshold)) if target == "binary" else Regression()
