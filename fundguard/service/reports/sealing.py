"""Confidentiality of reporters (条例 Art. 35): the identity, contact and attachments of a report are sealed with
AES-256-GCM under a key derived (HKDF-SHA256) from the service's key file outside the database — the same file
that keys the enforcement record's HMAC chain and seals TOTP secrets (``record.record_key``,
``FUNDGUARD_RECORD_KEY``) — so a copy of the database alone reveals nobody. Each ciphertext is bound to its
report (associated data), so a sealed identity cannot be moved onto another report. Tracking codes are stored
only as their keyed hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fundguard.service import record
from fundguard.service.errors import ServiceError

VERSION = "v1"


class SealBroken(ServiceError):
    """A sealed value that does not open under this key (another key file, or tampered)."""

    code = "seal_broken"
    http_status = 500


def _key(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"fundguard/reports/" + purpose).derive(
        record.record_key()
    )


def seal_bytes(data: bytes, bound_to: str) -> bytes:
    nonce = os.urandom(12)
    return VERSION.encode() + nonce + AESGCM(_key(b"seal")).encrypt(nonce, data, bound_to.encode())


def open_bytes(sealed: bytes, bound_to: str) -> bytes:
    if not sealed.startswith(VERSION.encode()):
        raise SealBroken("加密数据版本不符", "unknown seal version")
    body = sealed[len(VERSION) :]
    try:
        return AESGCM(_key(b"seal")).decrypt(body[:12], body[12:], bound_to.encode())
    except InvalidTag:
        raise SealBroken(
            "无法解密举报人信息（密钥文件不符或数据被篡改）",
            "cannot open the sealed value (wrong key or tampered)",
        ) from None


def seal(value: dict, bound_to: str) -> str:
    """A JSON object sealed to text (for a Text column)."""
    raw = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return base64.b64encode(seal_bytes(raw, bound_to)).decode("ascii")


def unseal(text: str, bound_to: str) -> dict:
    if not text:
        return {}
    return json.loads(open_bytes(base64.b64decode(text), bound_to).decode("utf-8"))


def code_hash(code: str) -> str:
    """The stored form of a tracking code (HMAC-SHA256 under a derived key): the code itself is never stored."""
    return hmac.new(_key(b"code"), code.strip().upper().encode(), hashlib.sha256).hexdigest()
