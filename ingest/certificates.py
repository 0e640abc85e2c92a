"""Self-signed application certificates for OPC UA (OPC 10000-6 6.2.2): what
`forewarn opcua-gen-cert` writes, and what the tests' secured servers use."""

from __future__ import annotations

import socket
from pathlib import Path

from asyncua.crypto import cert_gen
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

APPLICATION_URI = "urn:forewarn:client"
"""The client's application URI; it must match the URI in its certificate."""


def write_self_signed(
    certificate: Path,
    private_key: Path,
    *,
    application_uri: str = APPLICATION_URI,
    common_name: str = "forewarn",
    hostname: str | None = None,
    days: int = 730,
    server: bool = False,
) -> x509.Certificate:
    """Write a DER certificate and a PEM private key (mode 0600); return the certificate."""
    hostname = hostname or socket.gethostname()
    key = cert_gen.generate_private_key()
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        common_name,
        {"organizationName": "forewarn"},
        [x509.UniformResourceIdentifier(application_uri), x509.DNSName(hostname)],
        [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH],
        days=days,
    )
    certificate.parent.mkdir(parents=True, exist_ok=True)
    private_key.parent.mkdir(parents=True, exist_ok=True)
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    private_key.touch(mode=0o600)
    private_key.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return cert
