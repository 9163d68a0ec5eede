"""Trains one model on `side_feature_data` through rsx's own training story, in-process.

Run as `python -m rsx.testing.model_probe <overrides...>` in a fresh process (the Keras
backend is fixed at import); prints one JSON line: the final metrics, or {"error": ...}
with the one-line message of an `RsxError`. Tests of models that read side features use it:
the data has one feature of every kind (sequence included) and a rule only they explain.
"""

from __future__ import annotations

import json
import os
import sys


def probe(overrides: list[str], timeout: float = 300) -> dict:
    """Runs the probe in a fresh process with `overrides`; returns its JSON line as a dict."""
    import subprocess

    env = {**os.environ}
    env.pop("KERAS_BACKEND", None)  # The backend plugin decides, never the caller's shell.
    done = subprocess.run([sys.executable, "-m", "rsx.testing.model_probe", *overrides],
                          capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return json.loads(lines[-1])


def main(overrides: list[str]) -> None:
    from rsx.testing.compose import compose_config, registered

    cfg = compose_config(["data=synthetic", "trainer.verbose=0", "trainer.epochs=1", *overrides])
    registry = registered()
    backend_spec = registry.backend(cfg.backend.name)
    os.environ.update(backend_spec.environment(cfg.backend))

    from rsx.errors import RsxError
    from rsx.testing.side_features import side_feature_data

    try:
        from rsx.engine.training import train_and_evaluate
        from rsx.tracking import NullTracker

        result = train_and_evaluate(cfg, backend_spec, registry.model(cfg.model.name), side_feature_data(), NullTracker())
        print(json.dumps({"metrics": result.metrics}))
    except RsxError as error:
        print(json.dumps({"error": str(error)}))


if __name__ == "__main__":
    main(sys.argv[1:])
