"""What logging the trained model as an MLflow pyfunc model costs each run, against logging the
same two files (model.keras, rsx_model.json) as plain artifacts, as rsx did before.

One small rsx run (ranking on synthetic data, 1 epoch) provides a real model folder; each
measurement then runs in a fresh process, as in a worker: "cold" includes importing
mlflow.pyfunc and pandas, which a worker pays once per job.

    python benchmarks/model_logging_overhead.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import run_rsx, write_results

REPEATS = 3

_MEASURE = """
import json, os, sys, time
import numpy as np
from rsx.serving import _files, download
from rsx.tracking import MlflowTracker
uri, source = sys.argv[1], sys.argv[2]
folder = _files(download(source, uri))
info = json.load(open(os.path.join(folder, "rsx_model.json")))
inputs = {k: np.asarray(v) for k, v in info["example"]["inputs"].items()}
predictions = np.asarray(info["example"]["predictions"])
tracker = MlflowTracker(uri, "timing")
out = {}
for label in ("cold", "warm"):
    tracker.start(label, tags={})
    start = time.perf_counter()
    tracker.log_model(folder, info, inputs, predictions)
    out[f"pyfunc_{label}_s"] = time.perf_counter() - start
    start = time.perf_counter()
    for name in ("model.keras", "rsx_model.json"):
        tracker.log_file(os.path.join(folder, name), "model_plain")
    out[f"plain_{label}_s"] = time.perf_counter() - start
    tracker.finish()
print(json.dumps(out))
"""


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rsx-model-logging-"))
    run = run_rsx(workdir, ["model=ranking", "data=synthetic", "data.num_users=200", "data.num_items=100",
                            "data.num_interactions=8000", "trainer.epochs=1"])
    uri = f"sqlite:///{workdir}/mlflow.db"
    samples = []
    for _ in range(REPEATS):
        done = subprocess.run([sys.executable, "-c", _MEASURE, uri, run.info.run_id], capture_output=True, text=True,
                              cwd=workdir)
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    results = {key: round(statistics.median(s[key] for s in samples), 3) for key in samples[0]}
    results["repeats"] = REPEATS
    results["note"] = "median seconds per run on the shared 2-core machine; cold = first model of a fresh process"
    print(json.dumps(results, indent=2))
    write_results("model_logging_overhead", results)


if __name__ == "__main__":
    main()
