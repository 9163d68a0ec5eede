"""One job's training story: backend set-up -> model -> fit -> evaluate -> record.

Imported only after the backend's environment is applied (it imports keras).
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import logging
from typing import Any

import keras
import numpy as np

from rsx.contract import BackendSpec, ModelPlugin, ModelSpec, RuntimeInfo, plugin_config
from rsx.data.prepared import PreparedData
from rsx.engine.callbacks import EpochMetrics, NonFiniteLoss, ValidationEarlyStopping
from rsx.engine.checkpoints import EpochCheckpoint, load_best_weights, restore
from rsx.engine.devices import hold_back_jax_plugin_errors
from rsx.engine.inputs import check_backend_realizes, input_names, model_columns
from rsx.engine.model_logging import EXAMPLE_ROWS, example_inputs, log_model
from rsx.errors import ConfigError, RsxError
from rsx.evaluation import validation_metric
from rsx.tracking.vocabulary import KERAS_BACKEND_TAG, RESUMED_AT_EPOCH_TAG

log = logging.getLogger("rsx")


@dataclasses.dataclass
class TrainingResult:
    """What a finished job hands back: the final metrics and what ran."""

    metrics: dict[str, float]
    runtime: RuntimeInfo
    model: Any
    plugin: ModelPlugin


def mean_baseline(data: PreparedData, label: str) -> dict[str, float]:
    """The validation and test error of always predicting the training mean: the bar any
    model must clear, on the same splits as the model's `val_*` and `test_*`."""
    mean = float(np.mean(data.train[label]))
    out = {}
    for split, prefix in (("validation", "val"), ("test", "test")):
        mse = float(np.mean(np.square(data.split(split)[label] - mean)))
        out.update({f"baseline_{prefix}_mse": mse, f"baseline_{prefix}_rmse": mse**0.5})
    return out


def early_stopping(trainer, model_spec: ModelSpec, model_config, compiled_metrics, callbacks, tracker):
    """`trainer.early_stopping_patience` as a callback on the validation main metric, or None.

    The main metric must be one computed every validation: a compiled metric (e.g. `rmse`
    for `test_rmse`) or one a plugin callback adds to the epoch's logs and lists in its
    `logged_metrics` (e.g. two_tower's retrieval validation: `val_recall_at_10`); the stopper
    runs after the plugin callbacks, so it reads what they added. One computed only at the
    end (`evaluate_extra`) cannot be watched per epoch, so `val_loss` is watched instead and
    the run says so.
    """
    patience = trainer.get("early_stopping_patience")
    if patience is None:
        return None
    monitor = validation_metric(model_spec.main_metric_for(model_config))
    greater = model_spec.greater_is_better
    watchable = {validation_metric(getattr(m, "name", m)) for m in ["loss", *(compiled_metrics or [])]}
    watchable.update(name for c in callbacks for name in getattr(c, "logged_metrics", ()))
    if monitor not in watchable:
        log.warning("rsx: early stopping watches val_loss: %s is not computed every epoch", monitor)
        monitor, greater = "val_loss", False
    tracker.set_tags({"rsx.early_stopping.monitor": monitor,
                      "rsx.early_stopping.mode": "max" if greater else "min"})
    return ValidationEarlyStopping(monitor, greater, patience)


def resume_early_stopping(stopper: ValidationEarlyStopping, checkpoint) -> None:
    """Hands the stopper the state `checkpoint` (an `rsx.resume.CheckpointState`) saved, so a
    resumed job stops, and keeps the weights, as the uninterrupted one would.

    A checkpoint without that state (written before rsx saved it) resumes as rsx did then:
    patience and the best weights start again from the resumed epoch.
    """
    saved = checkpoint.early_stopping
    if saved is None:
        log.warning("rsx: the checkpoint of epoch %d holds no early-stopping state (older rsx); patience and "
                    "the best weights restart from epoch %d", checkpoint.epoch, checkpoint.epoch + 1)
        return
    numbers = {"best": saved.best, "best_epoch": saved.best_epoch, "wait": saved.wait,
               "stopped_epoch": saved.stopped_epoch}
    stopper.resume_from(numbers, load_best_weights(saved.best_weights) if saved.best_weights else None)


def final_metrics(model, plugin: ModelPlugin, data: PreparedData, validation, test, backend) -> dict[str, float]:
    """`val_*` and `test_*` of the trained model, after training.

    The final `val_*` always exist (whatever `validation_freq` and early stopping did), so
    the ranking metric `val_<main metric>` does too; with validation = test (tutorial
    presets) they are the test values, not a second pass.
    """
    metrics = {}
    splits = (("test", test),) if data.validation_is_test else (("validation", validation), ("test", test))
    for split, dataset in splits:
        prefix = "val" if split == "validation" else "test"
        evaluated = model.evaluate(dataset, return_dict=True, verbose=0)
        metrics.update({f"{prefix}_{k}": float(v) for k, v in evaluated.items() if np.ndim(v) == 0})
        with backend.inference_scope():
            if split == "test":
                metrics.update(plugin.evaluate_extra(model, data))
            elif "split" in inspect.signature(plugin.evaluate_extra).parameters:  # older plugins: test only
                metrics.update(plugin.evaluate_extra(model, data, split=split))
    if data.validation_is_test:
        metrics.update({validation_metric(k): v for k, v in list(metrics.items()) if k.startswith("test_")})
    return metrics


def global_batch_size(trainer, replicas: int, num_train: int) -> int:
    """Examples per step over all replicas: `trainer.global_batch_size` if set (it must split
    evenly over the replicas), else `trainer.batch_size` per replica x replicas."""
    fixed = trainer.global_batch_size
    if fixed is not None:
        if fixed < replicas or fixed % replicas:
            raise ConfigError(
                f"trainer.global_batch_size={fixed} does not divide evenly over the backend's "
                f"{replicas} replicas",
                f"use a multiple of {replicas}, or set trainer.batch_size (per replica) instead",
            )
        global_batch, key = fixed, f"trainer.global_batch_size={fixed}"
    else:
        global_batch = trainer.batch_size * replicas
        key = f"trainer.batch_size={trainer.batch_size} x {replicas} replicas"
    if global_batch > num_train:
        raise ConfigError(
            f"{key} exceeds the {num_train} training examples", "lower the batch size"
        )
    return global_batch


def build_model(plugin: ModelPlugin, embeddings, global_batch: int) -> keras.Model:
    """`plugin.build(embeddings, global_batch)`; a v1 plugin's `build(embeddings)` still works
    (it reads `self.global_batch_size`, which rsx then sets for it)."""
    try:
        parameters = inspect.signature(plugin.build).parameters
    except (TypeError, ValueError):
        parameters = {}
    if len(parameters) == 1 and "global_batch_size" not in parameters:
        log.warning("rsx: %s.build(embeddings) is the v1 signature; declare "
                    "build(self, embeddings, global_batch_size)", type(plugin).__name__)
        plugin.global_batch_size = global_batch
        return plugin.build(embeddings)
    return plugin.build(embeddings, global_batch)


def model_summary(model: keras.Model) -> str:
    lines = io.StringIO()
    model.summary(print_fn=lambda line, **_: lines.write(line + "\n"))
    return lines.getvalue()


@contextlib.contextmanager
def _unknown_identifiers_as_config_errors():
    """Keras rejects an unknown optimizer/activation/initializer name with "Could not interpret
    ... identifier" deep in model building; the name came from the config, so say so."""
    try:
        yield
    except ValueError as error:
        text = " ".join(str(error).split())
        if "Could not interpret" not in text:
            raise
        raise ConfigError(
            f"{text[:300]} (a name in the model config: optimizer, activation or initializer)",
            "use a name Keras knows, e.g. model.optimizer.name=adagrad, model.activation=relu",
        ) from error


def train_and_evaluate(
    cfg, backend_spec: BackendSpec, model_spec: ModelSpec, data: PreparedData, tracker, resume=None
) -> TrainingResult:
    """Runs a whole job on an already-prepared dataset and records it through `tracker`.

    `resume` (an `rsx.resume.ResumePlan`) says where to checkpoint every epoch and which
    checkpoint to continue from; None trains from scratch without checkpoints.
    """
    trainer = cfg.trainer
    hold_back_jax_plugin_errors()  # Before JAX starts: a GPU that cannot start is one line, not a traceback.
    keras.utils.set_random_seed(trainer.seed)

    backend = backend_spec.load()(plugin_config(cfg.backend))
    runtime = backend.setup()
    tracker.set_tags(
        {
            KERAS_BACKEND_TAG: runtime.keras_backend,
            "device_kind": runtime.device_kind,
            "device_count": runtime.device_count,
            "replicas": runtime.replicas,
            "process_count": runtime.process_count,
            "process_index": runtime.process_index,
            **runtime.tags,
        }
    )

    if runtime.process_count > 1 and resume is not None:
        # Every process would have to restore the same state in lockstep: not supported yet.
        log.warning("rsx: multi-process jobs are not checkpointed; a rerun starts from scratch")
        resume = None

    plugin = model_spec.load()(plugin_config(cfg.model), data)
    check_backend_realizes(backend, backend_spec.name, plugin)
    label = plugin.label()
    # Every split is read and checked before anything is built: a bad column fails in one line.
    columns = {
        split: model_columns(plugin.features(), plugin.tables(), data, split, label, trainer.feature_overflow)
        for split in (("train", "test") if data.validation_is_test else ("train", "validation", "test"))
    }
    columns.setdefault("validation", columns["test"])
    if (keep := plugin.train_rows(data)) is not None:  # e.g. implicit training on positives only
        columns["train"] = {name: values[keep] for name, values in columns["train"].items()}
    num_train = len(columns["train"][label])
    if num_train and float(np.ptp(columns["train"][label])) == 0.0:
        # Implicit data without negatives: a pointwise model can only learn the constant.
        log.warning("rsx: every training label is %s (data.target=%s): model '%s' can only learn a constant; "
                    "train a retrieval model (model=two_tower model.loss=softmax) on implicit data",
                    float(columns["train"][label][0]), data.schema.target, model_spec.name)
        tracker.set_tags({"rsx.warning": "constant training label"})
    features = input_names(plugin.features())
    global_batch = global_batch_size(trainer, runtime.replicas, num_train)
    # Layers built from here on compute in this policy; variables, losses and metrics stay float32.
    dtype_policy = trainer.dtype_policy or "float32"
    keras.config.set_dtype_policy(dtype_policy)
    tracker.set_tags({
        "global_batch_size": global_batch,
        "dtype_policy": dtype_policy,
        # Say so when validation metrics come from the test split (tutorial presets only).
        "rsx.validation": "test" if data.validation_is_test else "validation",
        # What preparation counted: duplicates merged, rows filtered, cold users/items...
        **{f"data.{key}": value for key, value in data.report.items()},
    })

    with backend.scope(), _unknown_identifiers_as_config_errors():
        # The optimizer first: a backend whose tables carry their optimizer (SparseCore) gives
        # the dense one to tables that declare none when it creates them.
        optimizer = backend.optimizer(plugin.optimizer(), plugin.tables())
        embeddings = backend.embeddings(plugin.tables(), plugin.features(), global_batch)
        model = build_model(plugin, embeddings, global_batch)
        compile_options = {"steps_per_execution": trainer.steps_per_execution, **backend.compile_options()}
        model.compile(
            optimizer=optimizer,
            loss=plugin.loss(),
            # Weighted, so the zero-weight rows that pad an evaluation split (see
            # `BackendPlugin.dataset`) do not count; without weights they are the same metrics.
            weighted_metrics=(compiled_metrics := plugin.metrics()),
            **compile_options,
        )

    initial_epoch = 0
    if resume is not None and resume.checkpoint is not None:
        initial_epoch = restore(model, resume.checkpoint)
        tracker.set_tags({RESUMED_AT_EPOCH_TAG: initial_epoch})
        log.info("rsx: resuming after epoch %d from %s", initial_epoch, resume.checkpoint.weights)

    train = backend.dataset(
        columns["train"], features, label, global_batch, training=True, shuffle=trainer.shuffle, seed=trainer.seed
    )
    validation = backend.dataset(
        columns["validation"], features, label, global_batch, training=False, shuffle=False, seed=trainer.seed
    )
    test = backend.dataset(
        columns["test"], features, label, global_batch, training=False, shuffle=False, seed=trainer.seed
    )

    non_finite = NonFiniteLoss()
    # Metrics are logged before the checkpoint is written: a kill between the two repeats the
    # epoch (the tracker skips steps it already holds) rather than losing its metrics.
    plugin_callbacks = plugin.callbacks(data, trainer.validation_freq)
    for callback in plugin_callbacks:
        if hasattr(callback, "scope"):  # Runs the model outside fit (e.g. retrieval validation).
            callback.scope = backend.inference_scope
    callbacks = [
        non_finite,
        *plugin_callbacks,
        EpochMetrics(tracker, examples_per_epoch=num_train),
    ]
    # The stopper before the checkpoint: each checkpoint holds its state after that same epoch.
    stopper = early_stopping(trainer, model_spec, cfg.model, compiled_metrics, plugin_callbacks, tracker)
    if stopper is not None:
        callbacks.append(stopper)
        if resume is not None and resume.checkpoint is not None:
            resume_early_stopping(stopper, resume.checkpoint)
    if resume is not None and resume.directory:
        callbacks.append(EpochCheckpoint(resume.directory, tracker.run_id, resume.job_key, stopper))
    from rsx.testing.faults import fault_callbacks

    callbacks += fault_callbacks()  # Tests only: none unless an RSX_FAULT_* variable is set.
    if stopper is not None and stopper.stopped:
        # Killed after early stopping ended training (e.g. in the final evaluation): train no
        # further, only put the best weights back as `fit` would have at its end.
        log.info("rsx: early stopping had ended training after epoch %d; not training further", initial_epoch)
        stopper.set_model(model)
        stopper.on_train_begin()
        stopper.on_train_end()
        epochs_run = []
    else:
        epochs_run = model.fit(
            train,
            epochs=trainer.epochs,
            initial_epoch=initial_epoch,
            validation_data=validation,
            validation_freq=trainer.validation_freq,
            callbacks=callbacks,
            verbose=trainer.verbose,
            shuffle=False,  # The backend's dataset already shuffles (see `trainer.shuffle`).
        ).epoch
    if non_finite.where is not None:
        epoch, step = non_finite.where
        raise RsxError(
            f"training loss became NaN/inf at epoch {epoch}, step {step}",
            "lower the learning rates (model.optimizer / table optimizers) or check the labels",
        )

    final_step = trainer.epochs
    if stopper is not None and stopper.best_weights is not None:
        last = epochs_run[-1] if epochs_run else initial_epoch - 1
        tracker.set_tags({"rsx.early_stopping.best_epoch": stopper.best_epoch + 1,
                          "rsx.early_stopping.last_epoch": last + 1})
        # The final metrics follow the last epoch that ran, never an epoch that did not. The
        # restored weights' val_* would share that epoch's step, and a step is recorded once:
        # they go one step after it, so they are the values MLflow shows.
        final_step = last + 1 if stopper.best_epoch == last else last + 2
        if last + 1 < trainer.epochs or stopper.best_epoch != last:
            log.info("rsx: early stopping on %s: trained %d of %d epochs, kept epoch %d's weights",
                     stopper.monitor, last + 1, trainer.epochs, stopper.best_epoch + 1)
    metrics = final_metrics(model, plugin, data, validation, test, backend)
    with backend.inference_scope():
        artifacts = plugin.artifacts(model, data)
    metrics.update(mean_baseline(data, label))
    tracker.log_metrics(metrics, step=final_step)

    tracker.log_text(model_summary(model), "model_summary.txt")
    for name, content in artifacts.items():
        if isinstance(content, str):
            tracker.log_text(content, name)
        else:
            tracker.log_dict(content, name)
    log_model(
        tracker,
        model,
        info={
            "model": model_spec.name,
            "backend": backend_spec.name,
            "keras_backend": runtime.keras_backend,
            "features": features,
            "label": label,
            "vocabulary_sizes": dict(data.vocabulary_sizes),
            "schema": data.schema.to_dict(),
            "global_batch_size": global_batch,
            "keras_version": keras.__version__,
        },
        example=example_inputs(columns["test"], features, max(EXAMPLE_ROWS, global_batch)),
        scope=backend.inference_scope,
        every_process=runtime.process_count > 1,
        tables=data.serving_tables(),
    )
    return TrainingResult(metrics=metrics, runtime=runtime, model=model, plugin=plugin)
