"""A self-signed certificate for 127.0.0.1 and a CA bundle trusting it, so a fake can be served over https."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFiles:
    certificate_and_key: Path
    ca_bundle: Path


def self_signed(directory: Path) -> TlsFiles:
    """Write a fresh certificate with its key, and certifi's bundle plus that certificate.

    Clients given the bundle load as many roots as they would in production.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google-tls")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    files = TlsFiles(directory / "fake-google.pem", directory / "ca-bundle.pem")
    files.certificate_and_key.write_bytes(
        cert_pem
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.ca_bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + cert_pem)
    return files


def server_context(certificate_and_key: Path) -> ssl.SSLContext:
    """The server side of TLS with the certificate `self_signed` wrote."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate_and_key)
    return context


def trusting_env(files: TlsFiles) -> dict[str, str]:
    """The environment that makes the app's Google clients (httplib2 and requests) trust the certificate."""
    return {"HTTPLIB2_CA_CERTS": str(files.ca_bundle), "REQUESTS_CA_BUNDLE": str(files.ca_bundle)}
