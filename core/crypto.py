"""Field encryption (AES-GCM) and lookup digests for personal data, and the Ed25519 key that
signs electronic certificates. Keys derive from SECRET_KEY unless given their own settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import settings

_VERSION = "v1"


def _derive(purpose: bytes, material: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(material.encode())


@lru_cache(maxsize=1)
def _field_key() -> bytes:
    return _derive(b"field-encryption", settings().field_key or settings().signing_key())


@lru_cache(maxsize=1)
def _digest_key() -> bytes:
    return _derive(b"lookup-digest", settings().field_key or settings().signing_key())


def encrypt(plain: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_field_key()).encrypt(nonce, plain.encode(), None)
    return f"{_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(stored: str) -> str:
    version, _, body = stored.partition(":")
    if version != _VERSION:
        raise ValueError("unknown field encryption version")
    raw = base64.urlsafe_b64decode(body.encode())
    return AESGCM(_field_key()).decrypt(raw[:12], raw[12:], None).decode()


def digest(value: str) -> str:
    """A keyed digest to find equal values (the same ID number) without decrypting."""
    return hmac.new(_digest_key(), value.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=1)
def certificate_key() -> Ed25519PrivateKey:
    """CERT_SIGNING_SEED (32 bytes, base64) or one derived from SECRET_KEY."""
    seed_b64 = settings().cert_signing_seed
    seed = (base64.b64decode(seed_b64) if seed_b64
            else _derive(b"certificate-signing", settings().signing_key()))
    return Ed25519PrivateKey.from_private_bytes(seed)


def certificate_public_key() -> Ed25519PublicKey:
    return certificate_key().public_key()
