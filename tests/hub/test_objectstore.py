"""The object store's failures reach callers as hub errors that name the object, never as a hang."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from hub.core.errors import LakeError
from hub.lake.objectstore import ObjectStore


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on loopback that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


@pytest.mark.timeout(60)
def test_a_server_that_never_answers_fails_the_call_naming_the_object(hub_settings, silent_server):
    settings = hub_settings.model_copy(
        update={"s3_endpoint": silent_server, "s3_request_timeout": 0.5}
    )
    with pytest.raises(LakeError, match=r"cannot read s3://.*raw/some/key.*did not answer"):
        ObjectStore(settings).get("raw", "some/key")
    assert LakeError.transient  # Airflow's retries may try again


def test_a_missing_object_is_absent_and_reading_it_names_it(hub_settings):
    store = ObjectStore(hub_settings)
    assert not store.exists("raw", "nothing/here")
    with pytest.raises(LakeError, match=r"cannot read s3://.*raw/nothing/here: .*NoSuchKey"):
        store.get("raw", "nothing/here")
