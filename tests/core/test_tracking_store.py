"""`rsx.tracking` against a real SQLite store, without training: concurrent first use, odd
characters in every value a search meets, deleted experiments, tag keys MLflow refuses, the
experiment kind the MLflow UI reads, and the line that says where a run went."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import mlflow
import pytest

from rsx.errors import ConfigError
from rsx.tracking import (
    MlflowTracker,
    RunStore,
    TrackingError,
    check_tag_keys,
    connect,
    end_orphaned_run,
    find_job_run,
    finished_job,
    where_line,
)
from rsx.tracking.vocabulary import EXPERIMENT_KIND_TAG, FINISHED, KILLED, MODEL_TRAINING_KIND, OUTPUT_DIR_TAG

#: Characters MLflow's filter strings cannot escape, and others that break naive quoting.
ODD = ["o'brien", 'say "hi"', "back\\slash", "50% off", "it's \"both\" \\ %", "tab\tand:colon"]


def _uri(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/mlflow.db"


_FIRST_USE = """
import sys, time
start = float(sys.argv[2])
from rsx.tracking import connect   # imports done: wait, so every process opens the store at once
time.sleep(max(0.0, start - time.time()))
tracker = connect(sys.argv[1], "rsx")
tracker.start("r", tags={})
tracker.finish()
"""


def test_concurrent_first_use_of_a_fresh_store(tmp_path):
    uri = _uri(tmp_path)
    start = time.time() + 12  # after every process has imported MLflow
    processes = [
        subprocess.Popen([sys.executable, "-c", _FIRST_USE, uri, str(start)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(5)
    ]
    outcomes = [(p.wait(timeout=180), p.stderr.read()) for p in processes]
    assert [code for code, _ in outcomes] == [0] * 5, "\n".join(err[-2000:] for _, err in outcomes)
    client = mlflow.MlflowClient(uri)
    (experiment,) = [e for e in client.search_experiments() if e.name == "rsx"]
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 5 and {r.info.status for r in runs} == {FINISHED}


def test_a_store_that_cannot_be_opened_is_not_called_unreachable(tmp_path):
    (tmp_path / "mlflow.db").write_text("not a database, just text " * 100)
    with pytest.raises(TrackingError) as error:
        connect(_uri(tmp_path), "rsx")
    assert "cannot open the MLflow store" in str(error.value) and "cannot reach" not in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("value", ODD)
def test_searches_match_odd_values_exactly(tmp_path, value):
    tracker = MlflowTracker(_uri(tmp_path), "rsx")
    ours = tracker.start(f"run {value}", tags={OUTPUT_DIR_TAG: f"/home/{value}/out", "note": value})
    tracker.finish()
    other = MlflowTracker(_uri(tmp_path), "rsx")
    other.start("other", tags={OUTPUT_DIR_TAG: "/home/someone/out", "note": value + "x"})
    other.finish()
    assert [r.run_id for r in tracker.find_runs({"note": value})] == [ours]
    found = find_job_run(_uri(tmp_path), "rsx", f"/home/{value}/out", since=time.time() - 60)
    assert found is not None and found.run_id == ours and found.name == f"run {value}"


@pytest.mark.parametrize("value", ODD[:4])
def test_a_dead_workers_run_in_an_odd_folder_ends_killed(tmp_path, value):
    output_dir = f"/tmp/{value}/outputs/job"
    tracker = MlflowTracker(_uri(tmp_path), "rsx")
    run_id = tracker.start("job", tags={OUTPUT_DIR_TAG: output_dir})  # ... and the worker dies
    assert end_orphaned_run(_uri(tmp_path), "rsx", output_dir, time.time() - 60, KILLED, "died") == run_id
    assert RunStore(_uri(tmp_path)).get(run_id).status == KILLED


def test_finished_job_lookup_by_key(tmp_path):
    uri = _uri(tmp_path)
    assert finished_job(uri, "rsx", "abc") is None  # no experiment yet: nothing, no error
    tracker = MlflowTracker(uri, "rsx")
    tracker.start("a", tags={"rsx.job_key": "abc"})
    tracker.finish(KILLED)
    assert finished_job(uri, "rsx", "abc") is None
    again = MlflowTracker(uri, "rsx")
    done = again.start("b", tags={"rsx.job_key": "abc"})
    again.finish(FINISHED)
    assert finished_job(uri, "rsx", "abc").run_id == done


def test_a_deleted_experiment_is_one_line_before_any_run(tmp_path):
    client = mlflow.MlflowClient(_uri(tmp_path))
    client.delete_experiment(client.create_experiment("mine"))
    with pytest.raises(TrackingError) as error:
        connect(_uri(tmp_path), "mine")
    line = str(error.value)
    assert "experiment 'mine' is deleted" in line and "restore" in line and "tracking.experiment" in line
    assert "\n" not in line
    assert client.search_runs([client.get_experiment_by_name("mine").experiment_id], run_view_type=3) == []


@pytest.mark.parametrize("key", ["cost$center", "a/../b", "with'quote", "semi;colon"])
def test_tag_keys_mlflow_refuses_are_named(key):
    with pytest.raises(ConfigError) as error:
        check_tag_keys({"fine": "1", key: "x"})
    assert f"tracking.tags.{key}" in str(error.value)


def test_tag_keys_mlflow_accepts_pass_and_the_tracker_refuses_before_creating_a_run(tmp_path):
    check_tag_keys({"owner": "me", "team/sub-team": "x", "a.b:c d": "y"})
    tracker = MlflowTracker(_uri(tmp_path), "rsx")
    with pytest.raises(ConfigError):
        tracker.start("r", tags={"cost$center": "x"})
    assert RunStore(_uri(tmp_path)).experiment_runs(tracker.experiment_id) == []


def test_experiments_rsx_creates_open_in_the_model_training_view(tmp_path):
    connect(_uri(tmp_path), "rsx")
    experiment = mlflow.MlflowClient(_uri(tmp_path)).get_experiment_by_name("rsx")
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING_KIND == "custom_model_development"


def test_where_line_names_run_status_and_a_ui_command_that_survives_the_shell(tmp_path):
    folder = tmp_path / "o'brien"
    uri = f"sqlite:///{folder}/mlflow.db"
    line = where_line(uri, "rsx", "abc123", FINISHED)
    assert "abc123" in line and FINISHED in line and "mlflow ui --backend-store-uri" in line
    command = line.split("view it: ", 1)[1]
    echoed = subprocess.run(["bash", "-c", command.replace("mlflow ui", "printf %s", 1)], capture_output=True, text=True)
    assert echoed.stdout == f"--backend-store-uri{uri}"
    assert "tracking.enabled=false" in where_line(uri, "rsx", None, FINISHED, enabled=False)
    # Tracking on but no run opened (the job failed before it): says so, no false claim.
    unfound = where_line(uri, "rsx", None, FINISHED)
    assert "tracking.enabled=false" not in unfound and "mlflow ui --backend-store-uri" in unfound
    assert "open http://***@host" in where_line("http://u:pw@host", "rsx", "x", FINISHED)


def test_nothing_outside_rsx_tracking_imports_mlflow():
    import pathlib

    import rsx

    root = pathlib.Path(rsx.__file__).parent
    offenders = [
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if "tracking" not in path.relative_to(root).parts[:1] and "testing" not in path.relative_to(root).parts[:1]
        and any(line.strip().startswith(("import mlflow", "from mlflow")) for line in path.read_text().splitlines())
    ]
    assert offenders == []
    compare = textwrap.dedent("""
        import sys, rsx.compare
        print(sorted(m for m in ("rsx.sweep", "rsx.worker", "rsx.job") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", compare], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", "compare reads tag names from rsx.tracking, not the sweep/worker chain"
