"""Keeping secrets out of MLflow: config -> params with credentials and secret values redacted."""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

#: MLflow's own limits (mlflow.utils.validation); values past them are cut, never dropped.
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250

#: "scheme://user:password@" (also "scheme:/..." once a path normalizer collapsed the "//").
_URI_CREDENTIALS = re.compile(r"(?<=[A-Za-z0-9+.-]:/)(/?)[^/@\s]+@")
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|credential)", re.I)


#: Environment variables whose values are secrets wherever they turn up (an interpolation
#: such as `${oc.env:MLFLOW_TRACKING_TOKEN}`, an error message, a traceback).
_SECRET_ENV = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|CREDENTIAL|ACCESS_KEY)", re.I)
#: Shorter values are not scrubbed: replacing "1" or "true" everywhere would garble the logs.
_MIN_SECRET_LENGTH = 6


def _environment() -> dict[str, str]:
    """A snapshot of os.environ. Reading it while another thread sets or unsets a variable
    (MLflow's telemetry thread does) raises KeyError/RuntimeError: then read it again."""
    for _ in range(10):
        try:
            return dict(os.environ)
        except (KeyError, RuntimeError):
            continue
    return dict(os.environ)


def _secret_values() -> list[str]:
    values = {v for k, v in _environment().items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(value: str) -> str:
    """Removes secrets from `value`: credentials in URIs ("https://u:p@host" ->
    "https://***@host") and the values of secret environment variables (names containing
    TOKEN, PASSWORD, SECRET, API_KEY, ...) wherever they appear."""
    value = _URI_CREDENTIALS.sub(r"\1***@", value)
    for secret in _secret_values():
        value = value.replace(secret, "***")
    return value


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists -> {"a.b.0": value}, the dotted keys MLflow params use."""
    if isinstance(node, Mapping):
        items = node.items()
    elif isinstance(node, (list, tuple)):
        items = enumerate(node)
    else:
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def params_from_config(container: Mapping[str, Any]) -> dict[str, str]:
    """MLflow params from a resolved config: dotted keys, credentials and secrets redacted."""
    params = {}
    for key, value in flatten(container).items():
        text = "null" if value is None else str(value)
        if _SECRET_KEY.search(key):
            text = "***"
        params[key[:MAX_KEY]] = redact(text)[:MAX_PARAM_VALUE]
    return params
