"""Encryption at rest for private keys stored in the database.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF from DEVICE_SECRET_KEY, or from
SECRET_KEY when that is empty. Losing or changing the key makes stored keys unreadable, which is
reported as a configuration error of the device, never as a crash.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from collectors.transports.base import ConfigError
from collectors.transports.ssh import load_private_key


def _fernet() -> Fernet:
    material = (settings.DEVICE_SECRET_KEY or settings.SECRET_KEY).encode()
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"infrastructor/device-keys/v1"
    ).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_private_key(text: str) -> str:
    """Validate a private key (it must load) and return its encrypted form."""
    text = text.strip() + "\n"
    load_private_key(text)  # raises ConfigError on garbage, before anything is stored
    return _fernet().encrypt(text.encode()).decode()


def decrypt_private_key(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as e:
        raise ConfigError(
            "the stored private key cannot be decrypted (was SECRET_KEY or DEVICE_SECRET_KEY "
            "changed?); store the key again"
        ) from e
