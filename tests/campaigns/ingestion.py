"""Helpers for the ingestion API tests: a client that signs what it sends, as a platform does."""
import json

from django.urls import reverse

from campaigns.api.auth import body_sign
from tests.campaigns.factories import OperatorCredentialFactory

URLS = {
    "players": "ingestion:players",
    "activity": "ingestion:activity",
    "synced_visits": "ingestion:synced_visits",
    "partners": "ingestion:partners",
}


def url(name: str, **kwargs) -> str:
    if name == "player_flags":
        return reverse("ingestion:player_flags", kwargs=kwargs)
    return reverse(URLS[name])


class OperatorClient:
    """Django's test client plus X-Authorization-Key / -Sign headers over the exact body."""

    def __init__(self, client, credential=None):
        self.client = client
        self.credential = credential or OperatorCredentialFactory()
        self.brand = self.credential.brand

    def headers(self, body: bytes, *, key: str | None = None, sign: str | None = None) -> dict:
        return {
            "X-Authorization-Key": self.credential.key if key is None else key,
            "X-Authorization-Sign": body_sign(self.credential.raw_secret, body) if sign is None else sign,
        }

    @staticmethod
    def encode(payload) -> bytes:
        if isinstance(payload, bytes):
            return payload
        return json.dumps(payload, default=str).encode()

    def send(self, method: str, path: str, payload=b"", **signing):
        body = self.encode(payload)
        call = getattr(self.client, method)
        return call(path, data=body, content_type="application/json", headers=self.headers(body, **signing))

    def post(self, name: str, payload, **signing):
        return self.send("post", url(name), payload, **signing)

    def put_flags(self, operation: str, payload, **signing):
        return self.send("put", url("player_flags", operation=operation), payload, **signing)

    def get(self, name: str, query: str = "", **signing):
        path = url(name) + (f"?{query}" if query else "")
        return self.client.get(path, headers=self.headers(b"", **signing))
