"""Google's APIs as the add-on reaches them: connections shared by threads, TLS, gzip, idle closes and silence."""

from __future__ import annotations

import gzip
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from addon.google.client import GoogleApis, GoogleUnavailable
from addon.google.gmail import read_message_metadata
from tests.fakes.google import FakeGoogle, FakeMessage
from tests.pauses import Pauses

TOKEN = "ya29.alice-oauth-token"


def message(n: int) -> FakeMessage:
    return FakeMessage(f"msg-{n}", f"per-message-token-{n}", [("Subject", f"Subject {n}"), ("From", "a@example.com")])


def read(apis: GoogleApis, n: int) -> str:
    return read_message_metadata(apis, TOKEN, f"per-message-token-{n}", f"msg-{n}").subject


class ClosesAfterEachAnswer:
    """A server that answers one request per connection, then closes it without saying so in the answer, as
    Google's front ends close a kept connection that sat idle; it counts the connections it accepted."""

    def __init__(self, body: bytes, headers: tuple[str, ...] = ()) -> None:
        self.answer = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n"
            + "".join(f"{header}\r\n" for header in headers)
            + f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536)
                connection.sendall(self.answer)

    def close(self) -> None:
        self.listener.close()


def gmail_answer(subject: str) -> bytes:
    return json.dumps({"id": "msg-1", "payload": {"headers": [{"name": "Subject", "value": subject}]}}).encode()


@pytest.fixture
def apis(google: FakeGoogle, pauses: Pauses) -> Iterator[GoogleApis]:
    google.add_user_token(TOKEN)
    apis = GoogleApis(google.url, sleep=pauses)
    yield apis
    apis.close()


def test_threads_calling_at_once_each_get_their_own_answer(google: FakeGoogle, apis: GoogleApis) -> None:
    for n in range(40):
        google.add_message(message(n))
    answers: dict[int, str] = {}

    def reader(first: int) -> None:
        for n in range(first, 40, 8):
            answers[n] = read(apis, n)

    threads = [threading.Thread(target=reader, args=(first,)) for first in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {n: f"Subject {n}" for n in range(40)}


def test_a_connection_google_closed_while_idle_is_reopened_without_a_retry(pauses: Pauses) -> None:
    server = ClosesAfterEachAnswer(gmail_answer("Budget"))
    apis = GoogleApis(server.url, sleep=pauses)
    try:
        assert [read(apis, 1), read(apis, 1), read(apis, 1)] == ["Budget"] * 3
    finally:
        apis.close()
        server.close()

    assert server.connections == 3
    assert pauses.seconds == []  # no call failed, so none was retried


def test_gzipped_answers_are_read(pauses: Pauses) -> None:
    server = ClosesAfterEachAnswer(gzip.compress(gmail_answer("Zipped")), ("Content-Encoding: gzip",))
    apis = GoogleApis(server.url, sleep=pauses)
    try:
        assert read(apis, 1) == "Zipped"
    finally:
        apis.close()
        server.close()


def test_google_not_answering_in_time_is_unavailable_after_two_retries(google: FakeGoogle, pauses: Pauses) -> None:
    google.add_user_token(TOKEN)
    google.add_message(message(1))
    google.stall("/gmail/", 1.0)
    apis = GoogleApis(google.url, timeout_seconds=0.2, sleep=pauses)
    try:
        with pytest.raises(GoogleUnavailable, match="TimeoutError"):
            read(apis, 1)
    finally:
        apis.close()

    assert len(google.requests_to("/gmail/")) == 3
    assert len(pauses.seconds) == 2


def self_signed_certificate(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the file of its certificate, for a client to trust."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = directory / "fake-google.pem"
    pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file = directory / "fake-google.key"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem, key_file)
    return context, pem


def test_google_over_tls_is_trusted_only_through_the_configured_roots(
    tmp_path: Path, pauses: Pauses, monkeypatch: pytest.MonkeyPatch
) -> None:
    context, certificate = self_signed_certificate(tmp_path)
    fake = FakeGoogle()
    fake.use_tls(context)
    fake.start()
    fake.add_user_token(TOKEN)
    fake.add_message(message(1))
    try:
        monkeypatch.delenv("HTTPLIB2_CA_CERTS", raising=False)
        untrusting = GoogleApis(fake.url, sleep=pauses)
        with pytest.raises(GoogleUnavailable):
            read(untrusting, 1)
        untrusting.close()

        monkeypatch.setenv("HTTPLIB2_CA_CERTS", str(certificate))
        trusting = GoogleApis(fake.url, sleep=pauses)
        assert [read(trusting, 1), read(trusting, 1)] == ["Subject 1", "Subject 1"]
        trusting.close()
    finally:
        fake.stop()

    assert len(fake.requests_to("/gmail/")) == 2  # the untrusted connection never got as far as a request


@pytest.mark.parametrize(
    "message_id", ["msg-f:1786543210987654321", "18c2a7b9e0f1d2c3", "a/b?c#d&e=f", "ünïcødé id", "%41+~._-", ""]
)
def test_the_prepared_gmail_read_is_the_request_discovery_builds(message_id: str) -> None:
    apis = GoogleApis("https://gmail.example")
    built = apis.gmail_messages.get(
        userId="me", id=message_id, format="metadata", metadataHeaders=["Subject", "Date", "From", "To", "Cc"]
    )

    prepared = apis.gmail_metadata(id=message_id)

    assert (prepared.uri, prepared.method, prepared.headers, prepared.body, prepared.methodId) == (
        built.uri,
        built.method,
        built.headers,
        built.body,
        built.methodId,
    )
