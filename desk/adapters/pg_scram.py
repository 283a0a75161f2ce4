"""SCRAM-SHA-256 verifiers made on the client, so a password never travels to the server (or its
statement log) in plain text when an admin sets one: PostgreSQL stores the verifier as given."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)
PREFIX = "SCRAM-SHA-256$"

# SASLprep (RFC 4013): non-ASCII spaces become a space, "commonly mapped to nothing" characters go.
_MAPPED_TO_SPACE = {0x00A0, 0x1680, 0x202F, 0x205F, 0x3000, *range(0x2000, 0x200C)}
_MAPPED_TO_NOTHING = {
    0x00AD,
    0x034F,
    0x1806,
    0x180B,
    0x180C,
    0x180D,
    0x200B,
    0x200C,
    0x200D,
    0x2060,
    0xFEFF,
    *range(0xFE00, 0xFE10),
}


def _saslprep(password: str) -> str:
    mapped = "".join(
        " " if ord(ch) in _MAPPED_TO_SPACE else ch
        for ch in password
        if ord(ch) not in _MAPPED_TO_NOTHING
    )
    return unicodedata.normalize("NFKC", mapped)


def scram_verifier(
    password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS
) -> str:
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password).encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"{PREFIX}{iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
