"""The signature of a delivery: HMAC-SHA256 with the endpoint's secret over
`<timestamp>.<body>`, sent as `Registry-Signature: t=<timestamp>,v1=<hex digest>`.
Receivers recompute it (README, "Webhooks") and refuse old timestamps (replays)."""

import hashlib
import hmac

SIGNATURE_HEADER = "Registry-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does; used by the tests as the README's code is."""
    try:
        fields = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
