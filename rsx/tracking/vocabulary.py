"""Every tag name and run status rsx writes to or reads from MLflow, in one place.

Other modules name tags and statuses through these constants only, so a tag is spelled once
and a reader can find every place that uses it.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- run statuses
#: MLflow run statuses rsx uses. A run always ends FINISHED, FAILED or KILLED.
RUNNING, FINISHED, FAILED, KILLED = "RUNNING", "FINISHED", "FAILED", "KILLED"
#: A sweep job that reused an identical FINISHED run instead of training (a job status only:
#: no MLflow run is ever SKIPPED).
SKIPPED = "SKIPPED"
#: Run statuses a rerun continues: RUNNING (died without a word) and KILLED (Ctrl-C, SIGTERM).
RESUMABLE = (RUNNING, KILLED)

# --------------------------------------------------------------------------- every job's run
BACKEND_TAG = "backend"
MODEL_TAG = "model"
DATASET_TAG = "dataset"
KERAS_BACKEND_TAG = "keras_backend"
VERSION_TAG = "rsx_version"
GIT_COMMIT_TAG = "git_commit"
#: The job's output directory (absolute); compared in Python, never put in a filter string.
OUTPUT_DIR_TAG = "output_dir"
#: `rsx.job.job_key`: the same config gives the same key (resume, skip finished jobs).
JOB_KEY_TAG = "rsx.job_key"
#: "host:pid:start-time" of the process that runs a job, to tell a live job from a crash.
PROCESS_TAG = "rsx.process"
#: The name of the model's main metric for this run's config (e.g. test_recall_at_5).
MAIN_METRIC_TAG = "rsx.main_metric"
#: One line saying why the run FAILED or was KILLED.
FAILURE_TAG = "failure"
#: Where the trained model went: "model/model.keras", "weights only" or "not saved".
MODEL_SAVED_TAG = "rsx.model"
RESUMED_AT_EPOCH_TAG = "rsx.resumed_at_epoch"
#: Content digest of the prepared data (`PreparedData.digest`), also on its dataset inputs.
DATA_DIGEST_TAG = "rsx.data_digest"

# --------------------------------------------------------------------------- sweeps
#: MLflow's own parent tag, which its UI nests child runs by.
PARENT_TAG = "mlflow.parentRunId"
SWEEP_DIR_TAG = "rsx.sweep_dir"
JOB_NUM_TAG = "rsx.job_num"
OVERRIDES_TAG = "rsx.overrides"
#: On a sweep's parent run: ROLE_TAG = SWEEP_ROLE.
ROLE_TAG = "rsx.role"
SWEEP_ROLE = "sweep"
SKIPPED_RUNS_TAG = "rsx.skipped_runs"
FAILED_JOBS_TAG = "rsx.failed_jobs"
SWEEP_ERROR_TAG = "rsx.sweep_error"

# --------------------------------------------------------------------------- experiments
#: The MLflow 3 UI opens an experiment in the view its kind names; without the tag it guesses
#: (and, for an experiment without traces, often picks the GenAI view). The key and value are
#: the UI's own (mlflow/server/js: ExperimentKind.CUSTOM_MODEL_DEVELOPMENT).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"
