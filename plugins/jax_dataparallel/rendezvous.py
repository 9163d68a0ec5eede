"""A bounded wait for every process of a job, before `jax.distributed.initialize`.

JAX's own start-up does not fail politely: when the coordinator cannot be reached, or a
process never joins, it aborts the whole process from C++ after its timeout, with a stack
trace. So the processes first meet on the coordinator's port with plain sockets: process 0
listens until every other process has checked in, the others retry connecting until it
answers. Either side gives up after `timeout` seconds with one clear line. Then process 0
releases the port and JAX's coordination service takes it over.
"""

from __future__ import annotations

import socket
import struct
import time

from rsx.api import RsxError

_OK = b"rsx-ok"
_RETRY_SECONDS = 0.2


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def wait_for_processes(address: str, num_processes: int, process_id: int, timeout: float) -> None:
    """Returns once all `num_processes` processes reached `address`, or raises `RsxError`."""
    if process_id == 0:
        _host(address, num_processes, timeout)
    else:
        _join(address, process_id, timeout)


def _host(address: str, num_processes: int, timeout: float) -> None:
    _, port = _split(address)
    deadline = time.monotonic() + timeout
    try:
        server = socket.create_server(("", port), reuse_port=False)
    except OSError as error:
        raise RsxError(
            f"process 0 cannot listen on port {port} of backend.coordinator_address={address} ({error.strerror})",
            "choose a free port for backend.coordinator_address",
        ) from None
    joined: set[int] = set()
    peers = []
    with server:
        while len(joined) < num_processes - 1:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = sorted(set(range(1, num_processes)) - joined)
                raise RsxError(
                    f"processes {missing} did not reach the coordinator at {address} within "
                    f"{timeout:g} s (backend.coordinator_timeout_seconds)",
                    f"start every process with backend.num_processes={num_processes} and "
                    f"backend.coordinator_address={address}, each with its own backend.process_id",
                )
            server.settimeout(remaining)
            try:
                peer, _ = server.accept()
                peer.settimeout(max(deadline - time.monotonic(), 0.1))
                (index,) = struct.unpack("!i", peer.recv(4, socket.MSG_WAITALL))
            except (OSError, struct.error):
                continue  # A timeout is handled at the top; a stray connection is ignored.
            joined.add(index)
            peers.append(peer)
        for peer in peers:
            # The peer closes first, so the port is not left in TIME_WAIT for JAX to take over.
            with peer:
                peer.sendall(_OK)
                peer.recv(1)


def _join(address: str, process_id: int, timeout: float) -> None:
    host, port = _split(address)
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=max(deadline - time.monotonic(), 0.1)) as conn:
                conn.sendall(struct.pack("!i", process_id))
                conn.settimeout(max(deadline - time.monotonic(), 0.1))
                if conn.recv(len(_OK), socket.MSG_WAITALL) == _OK:
                    return
                last_error = "the coordinator closed the connection"
        except OSError as error:
            last_error = error.strerror or type(error).__name__
        time.sleep(_RETRY_SECONDS)
    raise RsxError(
        f"cannot reach the coordinator at backend.coordinator_address={address} within "
        f"{timeout:g} s ({last_error})",
        f"start process 0 with backend.coordinator_address={address}, check that the host and "
        "port are reachable from here, or raise backend.coordinator_timeout_seconds",
    )
