"""Chat sessions: a random id in a signed cookie, and what is derived from
it with the same key.

The cookie holds only `<id>.<signature>`: no name, number or message. The
id is never used as it is anywhere else: the bot knows the conversation by
a keyed hash of it (`conversation_id`), so whoever reads the tracker store
cannot take over a resident's chat, and each form carries a token derived
from the id (`csrf_token`), so another site cannot post into it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "council_chat"
ID_BYTES = 18
_SIGNATURE_CHARS = 32


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of what a browser sent (any characters at
    all) with what this service made."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


class SessionKeys:
    def __init__(self, key: str) -> None:
        self._key = key.encode("utf-8")

    def _mac(self, purpose: str, session_id: str) -> str:
        return hmac.new(self._key, f"{purpose}:{session_id}".encode(), hashlib.sha256).hexdigest()

    def new(self) -> tuple[str, str]:
        """(session id, cookie value) for a new conversation."""
        session_id = secrets.token_urlsafe(ID_BYTES)
        return session_id, f"{session_id}.{self._mac('cookie', session_id)[:_SIGNATURE_CHARS]}"

    def read(self, cookie_value: str | None) -> str | None:
        """The session id of a cookie this service signed, else None (a
        forged, altered or foreign cookie starts a new conversation)."""
        if not cookie_value or len(cookie_value) > 100:
            return None
        session_id, _, signature = cookie_value.partition(".")
        if not session_id or not _same(signature, self._mac("cookie", session_id)[:_SIGNATURE_CHARS]):
            return None
        return session_id

    def csrf_token(self, session_id: str) -> str:
        return self._mac("csrf", session_id)[:_SIGNATURE_CHARS]

    def csrf_ok(self, session_id: str, given: str | None) -> bool:
        return bool(given) and _same(str(given), self.csrf_token(session_id))

    def conversation_id(self, session_id: str) -> str:
        """The id the bot and every store know this conversation by."""
        return f"web-{self._mac('conversation', session_id)[:24]}"
