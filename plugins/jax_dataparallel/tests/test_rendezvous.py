"""The bounded wait before jax.distributed: every process meets, or one clear line in time."""

import socket
import threading
import time

import pytest

from rsx.errors import RsxError
from rsx_plugins.jax_dataparallel.rendezvous import wait_for_processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_all_processes_meet_and_the_port_is_free_again():
    address = f"127.0.0.1:{_free_port()}"
    errors = []

    def process(index):
        try:
            wait_for_processes(address, 3, index, timeout=20)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    # The others start before process 0 is listening: they keep retrying.
    threads = [threading.Thread(target=process, args=(i,)) for i in (2, 1, 0)]
    for thread in threads:
        thread.start()
        time.sleep(0.3)
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    # JAX's coordination service takes the port over next.
    with socket.create_server(("", int(address.rsplit(":", 1)[1]))):
        pass


def test_unreachable_coordinator_fails_in_one_line_within_the_timeout():
    address = f"127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with pytest.raises(RsxError) as raised:
        wait_for_processes(address, 2, 1, timeout=1.5)
    assert time.monotonic() - start < 5
    message = str(raised.value)
    assert "\n" not in message
    assert f"cannot reach the coordinator at backend.coordinator_address={address} within 1.5 s" in message


def test_coordinator_names_the_processes_that_never_came():
    address = f"127.0.0.1:{_free_port()}"
    joined = threading.Thread(target=lambda: _try(address, 1))
    joined.start()
    with pytest.raises(RsxError, match=r"processes \[2\] did not reach the coordinator .* within 2 s"):
        wait_for_processes(address, 3, 0, timeout=2)
    joined.join(timeout=10)


def _try(address, index):
    try:
        wait_for_processes(address, 3, index, timeout=3)
    except RsxError:
        pass
