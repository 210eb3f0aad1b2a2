"""The pass token the QR code carries: ``PAYLOAD.SIGNATURE``, both base64url without padding. PAYLOAD is the UTF-8
JSON ``{"p": pass id, "n": holder's masked name, "k": kind, "a": [area paths], "f": valid from, "t": valid to}``;
SIGNATURE is the deployment's Ed25519 signature of PAYLOAD's ASCII text (so a browser verifies the first segment
as it stands: WebCrypto ``verify("Ed25519", key, sig, bytes(PAYLOAD))``).

The key pair is generated on first use and kept in the database (``SigningKey``), so every web process and
worker signs with the same key and a backup carries it; the public key is served to the checkpoint page."""
from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import IntegrityError, transaction

from cordon.core import clock
from cordon.core.ids import mask_name
from cordon.passes.models import Pass, SigningKey

_RAW = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key() -> SigningKey:
    k = SigningKey.objects.order_by("id").first()
    if k is None:
        priv = Ed25519PrivateKey.generate()
        raw = priv.private_bytes(encoding=serialization.Encoding.Raw, format=serialization.PrivateFormat.Raw,
                                 encryption_algorithm=serialization.NoEncryption())
        try:
            with transaction.atomic():
                SigningKey.objects.create(private=raw, public=priv.public_key().public_bytes(**_RAW),
                                          created=clock.now())
        except IntegrityError:  # pragma: no cover - another process made it first
            pass
        k = SigningKey.objects.order_by("id").first()
    return k


def _private() -> Ed25519PrivateKey:
    k = _key()
    return Ed25519PrivateKey.from_private_bytes(bytes(k.private))


def public_key() -> bytes:
    """The raw 32-byte public key (read from the database each time; `verify` keeps it)."""
    k = _key()
    return bytes(k.public)


def payload_of(p: Pass) -> dict:
    return {"p": p.pk, "n": mask_name(p.holder_name), "k": p.kind, "a": p.area_paths,
            "f": p.valid_from.isoformat(), "t": p.valid_to.isoformat()}


def token_for(p: Pass) -> str:
    body = b64(json.dumps(payload_of(p), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return body + "." + b64(_private().sign(body.encode("ascii")))


#: the public key this process last read (the deployment's key is made once and never changes): a check verifies
#: with it without reading the key again; a signature it refuses is tried once more with the key read afresh
_VERIFIER: list[Ed25519PublicKey] = []


def _verify_signature(sig: bytes, body: bytes) -> None:
    """Raises InvalidSignature unless ``sig`` is the deployment key's signature of ``body``."""
    if _VERIFIER:
        try:
            return _VERIFIER[0].verify(sig, body)
        except InvalidSignature:
            pass
    key = Ed25519PublicKey.from_public_bytes(public_key())
    _VERIFIER[:] = [key]
    key.verify(sig, body)


def verify(token: str) -> dict | None:
    """The token's payload when its signature is the deployment's, None otherwise (forged, altered, garbled)."""
    try:
        body, sig = (token or "").strip().split(".")
        _verify_signature(unb64(sig), body.encode("ascii"))
        data = json.loads(unb64(body).decode("utf-8"))
    except (ValueError, InvalidSignature, binascii.Error, UnicodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("p"), int) else None
