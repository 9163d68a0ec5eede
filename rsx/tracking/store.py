"""Opening the MLflow store: safely on first use, fast to fail, and with errors that say why.

- A local SQLite store (`sqlite:///.../mlflow.db`) is created and migrated by whichever
  process touches it first. Two runs started at once in a fresh directory used to race there
  ("duplicate column name: step", sometimes a database no later run could open); every rsx
  process now opens the store holding an exclusive `flock` on `<db>.lock`, so one creates
  it and the others wait, then find it ready.
- An unreachable server is reported in seconds naming the URI ("cannot reach"); a local store
  that cannot be opened says "cannot open", with MLflow's reason.
- The experiment is looked up before any run exists: a deleted one (MLflow keeps its name)
  is one line saying to restore it or pick another name, and one rsx creates is tagged as a
  model-training experiment, so the MLflow 3 UI opens its training view.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import TYPE_CHECKING, Iterator, Mapping, Optional

from rsx.errors import ConfigError, RsxError
from rsx.tracking.redaction import redact
from rsx.tracking.vocabulary import EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND

if TYPE_CHECKING:
    from mlflow import MlflowClient


class TrackingError(RsxError):
    """MLflow cannot be reached, or the store cannot be opened or used as configured."""


def sqlite_path(uri: str) -> Optional[str]:
    """The database file of a `sqlite:///` URI (None for any other kind of store)."""
    if not uri.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    return os.path.abspath(database) if database and database != ":memory:" else None


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Holds an exclusive lock on `<db>.lock` for a SQLite store (a no-op for servers).

    The lock file stays beside the database; it holds nothing and costs nothing.
    """
    path = sqlite_path(uri)
    if path is None:
        yield
        return
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(f"{path}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_client(uri: str) -> "MlflowClient":
    """An `MlflowClient` whose store exists and is migrated (see the module docstring).

    Raises `TrackingError` naming the URI (credentials hidden) when the store cannot be
    reached or opened.
    """
    import mlflow

    try:
        with store_lock(uri), _fail_fast(), _quotable_artifact_root(uri):
            # Creating the client opens the store (tables, migrations); do it under the lock.
            client = mlflow.MlflowClient(tracking_uri=uri)
            client.search_experiments(max_results=1)
    except RsxError:
        raise
    except Exception as error:
        reason = f"{type(error).__name__}: {redact(' '.join(str(error).split()))[:200]}"
        if sqlite_path(uri) is not None:
            raise TrackingError(
                f"cannot open the MLflow store tracking.uri={redact(uri)} ({reason})",
                "check that the file is an MLflow database you can write, or point tracking.uri elsewhere",
            ) from error
        raise TrackingError(
            f"cannot reach MLflow at tracking.uri={redact(uri)} ({reason})",
            "start the server or fix tracking.uri, or set tracking.enabled=false",
        ) from error
    return client


#: MLflow reads the default artifact root of a store it creates from this variable, else "./mlruns".
_ARTIFACT_ROOT_VARIABLE = "_MLFLOW_SERVER_ARTIFACT_ROOT"


@contextlib.contextmanager
def _quotable_artifact_root(uri: str) -> Iterator[None]:
    """While a new SQLite store is created: its default artifact root as a file URI.

    MLflow inserts the store's "Default" experiment with hand-built SQL (repr() of the
    artifact location, `./mlruns` resolved in the launch directory), which a quote, a
    backslash or a colon in that path breaks ("near 'brien': syntax error"). The same folder
    written as a percent-encoded `file://` URI has none of them; later experiments (rsx's own)
    are inserted safely either way.
    """
    path = sqlite_path(uri)
    fresh = path is not None and (not os.path.exists(path) or os.path.getsize(path) == 0)
    if not fresh or os.environ.get(_ARTIFACT_ROOT_VARIABLE):
        yield
        return
    from pathlib import Path

    os.environ[_ARTIFACT_ROOT_VARIABLE] = Path(os.getcwd(), "mlruns").as_uri()
    try:
        yield
    finally:
        os.environ.pop(_ARTIFACT_ROOT_VARIABLE, None)


def experiment_id(client: "MlflowClient", name: str, create: bool = True) -> Optional[str]:
    """The id of the active experiment `name`, created (and tagged) when missing and `create`.

    Raises `TrackingError` when the experiment is deleted: MLflow keeps a deleted experiment's
    name, so no run can be recorded under it until it is restored.
    """
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is None and create:
        try:
            created = client.create_experiment(name, tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND})
            return created
        except MlflowException:  # Another job created it between our two calls.
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
    if found is None:
        return None
    if found.lifecycle_stage == "deleted":
        raise TrackingError(
            f"MLflow experiment '{name}' is deleted (id {found.experiment_id})",
            f"restore it (mlflow experiments restore --experiment-id {found.experiment_id}) "
            "or set tracking.experiment=<another name>",
        )
    return found.experiment_id


def check_tag_keys(tags: Mapping[str, object], where: str = "tracking.tags") -> None:
    """Raises `ConfigError` naming the first tag key MLflow would refuse (before any run exists).

    MLflow's own rule (mlflow.utils.validation): letters, digits, `_ - . / : space`, and not a
    path that normalizes to something else ("a/../b", "/a").
    """
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_tag_name

    for key in tags:
        try:
            _validate_tag_name(str(key))
        except MlflowException:
            raise ConfigError(
                f"{where}.{key}: MLflow does not accept this tag key",
                "use letters, digits and _ - . / : or space in tag keys",
            ) from None


def ui_command(uri: str) -> str:
    """The command that shows this store in the MLflow UI (a server URI: just open it)."""
    if uri.startswith(("http://", "https://")):
        return f"open {redact(uri)}"
    return f"mlflow ui --backend-store-uri {_shell_quote(redact(uri))}"


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


@contextlib.contextmanager
def _fail_fast() -> Iterator[None]:
    """MLflow's HTTP client retries an unreachable server for minutes by default; while
    rsx first contacts the server it should fail within seconds and say so. Later calls
    (a run of hours) keep MLflow's patient defaults."""
    quick = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
    saved = {k: os.environ.get(k) for k in quick}
    os.environ.update({k: v for k, v in quick.items() if saved[k] is None})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
