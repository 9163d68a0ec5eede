"""Who takes part in a multi-process job: resolved from config, then the environment.

Framework-free on purpose: the spec needs this process's index before JAX starts (to set the
collectives environment, and so that only process 0 opens an MLflow run).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Optional

from rsx.api import ConfigError

#: The variables `keras.distribution.initialize` reads, and JAX's own coordinator variable.
ADDRESS_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "JAX_COORDINATOR_ADDRESS")
NUM_PROCESSES_VARIABLE = "KERAS_DISTRIBUTION_NUM_PROCESSES"
PROCESS_ID_VARIABLE = "KERAS_DISTRIBUTION_PROCESS_ID"


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The processes of one job.

    Args:
        num_processes: processes taking part (1 = an ordinary single-process job).
        process_id: this process's index.
        coordinator_address: host:port of process 0; None for a single process.
    """

    num_processes: int = 1
    process_id: int = 0
    coordinator_address: Optional[str] = None

    @property
    def multi_process(self) -> bool:
        return self.num_processes > 1


def _integer(value: Optional[int], key: str, environ: Mapping[str, str], variable: str, default: int) -> int:
    if value is not None:
        return int(value)
    text = environ.get(variable)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ConfigError(
            f"environment variable {variable}={text!r} is not an integer",
            f"set it to an integer or set {key} instead",
        ) from None


def resolve_cluster(config, environ: Optional[Mapping[str, str]] = None) -> Cluster:
    """This job's `Cluster` from `backend.*` keys, falling back to environment variables.

    Raises:
        ConfigError: a count or index out of range, or several processes and no coordinator.
    """
    environ = os.environ if environ is None else environ
    num_processes = _integer(config.num_processes, "backend.num_processes", environ, NUM_PROCESSES_VARIABLE, 1)
    process_id = _integer(config.process_id, "backend.process_id", environ, PROCESS_ID_VARIABLE, 0)
    if num_processes < 1:
        raise ConfigError(f"backend.num_processes={num_processes} must be at least 1", "set backend.num_processes=1 or more")
    if not 0 <= process_id < num_processes:
        raise ConfigError(
            f"backend.process_id={process_id} is outside 0..{num_processes - 1} "
            f"(backend.num_processes={num_processes})",
            "give each process a distinct index from 0 to num_processes - 1",
        )
    if num_processes == 1:
        return Cluster()
    address = config.coordinator_address or next((environ[v] for v in ADDRESS_VARIABLES if environ.get(v)), None)
    if not address:
        raise ConfigError(
            f"backend.num_processes={num_processes} but no coordinator address is set",
            "set backend.coordinator_address=<host of process 0>:<port> on every process",
        )
    # Keras accepts a comma-separated list of every job's address; the first is the coordinator.
    address = address.split(",")[0].strip()
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"backend.coordinator_address={address!r} is not host:port",
            "set it like backend.coordinator_address=10.0.0.2:1234",
        )
    return Cluster(num_processes=num_processes, process_id=process_id, coordinator_address=address)
