"""Hypothesis strategies for requests to each target (the case API, the
staff pages, the Twilio webhooks, the web chat): mostly well formed
(signed, with a valid token or session) so they reach the handlers, with
every field drawn from valid values, edge cases and arbitrary data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from handoff.cases import CHANNELS, OUTCOMES, PRIORITIES, REASONS

TARGETS = ("case_api", "staff_pages", "webhooks", "web_chat")
SERVICES = ("council_tax", "bins_recycling", "roads_highways", "out_of_scope", "dragon_slaying")

EDGE_TEXTS = (
    "", " ", "0", "-1", "1e308", "NaN", "null", "true", "\x00", "\r\n", "%00", "%", "\ufeff", "\ud7ff",
    "9999-12-31", "0001-01-01", "2026-02-30", "2026-11-10", "2026-11-01T00:00:00", "24:00",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-11-10T10:00:00Z", "2026-11-10T10:00:00+99:00",
    "LAN-7K3-Q9X", "lan 7k3 q9x", "LAN-777-77", "../../etc/passwd", "<script>alert(1)</script>",
    "' OR 1=1 --", "%s%s%n", "{{7*7}}", "٣٤٥", "🙂" * 40, "1234567890" * 4, "+447700900123", "07700 900123",
    "anonymous", "client:alice", "4111 1111 1111 1111", "a" * 65, "a" * 5000, "LA1 1AA", "la11aa",
)

short_texts = st.one_of(st.text(max_size=30), st.sampled_from(EDGE_TEXTS))
# Now and then a long one, past the columns and the field caps.
texts = st.one_of(*[short_texts] * 6, st.text(max_size=300), st.text(max_size=300),
                  st.text(min_size=3000, max_size=6000))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(short_texts, inner, max_size=4)),
    max_leaves=12,
)


@dataclass
class Req:
    """One request: `data` is a form (dict), raw bytes or None; `body` a JSON value."""

    target: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | bytes | None = None
    body: Any = None
    has_body: bool = False
    # good / none / bad: the bearer token (the bot's; "integration": a
    # contact-centre system's), the session or the signature
    auth: str = "good"
    content_type: str | None = None

    def describe(self) -> str:
        body = json.dumps(self.body)[:200] if self.has_body else repr(self.data)[:200]
        return f"{self.method} {self.path} params={self.params!r} auth={self.auth} body={body}"


def _maybe(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a valid value (so a whole request is often valid and reaches
    the store); otherwise an edge case or arbitrary JSON."""
    return st.one_of(*[valid] * 7, json_values)


def _transcripts() -> st.SearchStrategy:
    turn = st.fixed_dictionaries({"who": st.sampled_from(("caller", "bot", "staff")), "text": texts})
    return st.lists(turn, max_size=6)


def _new_case() -> st.SearchStrategy:
    fields = {
        "conversation_id": _maybe(st.text(min_size=1, max_size=40)),
        "reason": _maybe(st.sampled_from(REASONS)),
        "channel": _maybe(st.sampled_from(CHANNELS)),
        "transcript": _maybe(_transcripts()),
        "reference": _maybe(st.sampled_from(("LAN-7K3-Q9X", "LAN-2M9-XR4"))),
        "caller_number": _maybe(st.sampled_from(("+447700900123", "07700900456", "anonymous", "1234567890" * 4))),
        "service": _maybe(st.sampled_from(SERVICES)),
        "priority": _maybe(st.sampled_from(PRIORITIES)),
        "postcode": _maybe(st.sampled_from(("LA1 1AA", "LA4 6XX", "PR1 2AA"))),
        "created_at": st.one_of(_maybe(st.sampled_from(("2026-11-10T10:00:00Z", "2026-11-10T10:00:00"))),
                                st.sampled_from(("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"))),
    }
    required = ("conversation_id", "reason", "channel", "transcript")
    return st.fixed_dictionaries({name: fields[name] for name in required},
                                 optional={name: s for name, s in fields.items() if name not in required})


def _auth() -> st.SearchStrategy:
    return st.sampled_from(("good",) * 8 + ("none", "bad"))


def _reference(real: str) -> st.SearchStrategy:
    return st.one_of(st.just(real), st.just(real), st.sampled_from(EDGE_TEXTS).filter(lambda t: "/" not in t and t),
                     st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20))


@st.composite
def case_api(draw: st.DrawFn, reference: str) -> Req:
    auth = draw(st.one_of(_auth(), st.just("integration")))
    kind = draw(st.sampled_from(("create", "create", "create", "list", "get", "action", "raw")))
    if kind == "create":
        return Req("case_api", "POST", "/api/cases", body=draw(_maybe(_new_case())), has_body=True, auth=auth)
    if kind == "list":
        params = draw(st.dictionaries(st.sampled_from(("status", "service", "centre", "priority", "limit",
                                                        "offset", "x")), short_texts, max_size=5))
        return Req("case_api", "GET", "/api/cases", params=params, auth=auth)
    ref = draw(_reference(reference))
    if kind == "get":
        return Req("case_api", "GET", f"/api/cases/{ref}", auth=auth)
    if kind == "action":
        verb = draw(st.sampled_from(("claim", "outcome", "notes")))
        body = draw(_maybe(st.fixed_dictionaries({}, optional={
            "staff": _maybe(st.sampled_from(("alice", "fuzzer"))), "actor": _maybe(st.just("staff:alice")),
            "outcome": _maybe(st.sampled_from(OUTCOMES)), "text": texts})))
        return Req("case_api", "POST", f"/api/cases/{ref}/{verb}", body=body, has_body=True, auth=auth)
    raw = draw(st.one_of(st.binary(max_size=200), st.just(b"{" * 5000), st.just(b"x" * 70_000)))
    return Req("case_api", "POST", "/api/cases", data=raw, auth=auth,
               content_type=draw(st.sampled_from(("application/json", "text/plain", "multipart/form-data"))))


STAFF_GETS = ("/staff", "/staff/", "/staff/search", "/staff/cases/{ref}", "/staff/reports", "/staff/reports.csv",
              "/staff/reports/by_service.png", "/staff/reports/{word}.png", "/staff/login", "/staff/nothing")
STAFF_POSTS = ("/staff/cases/{ref}/claim", "/staff/cases/{ref}/notes", "/staff/cases/{ref}/outcome",
               "/staff/cases/{ref}/reveal", "/staff/login")
STAFF_QUERY = ("from", "to", "centre", "reference", "done", "next", "q")
STAFF_FORM = ("csrf_token", "text", "note", "outcome", "username", "password", "next")


@st.composite
def staff_pages(draw: st.DrawFn, reference: str) -> Req:
    auth = draw(_auth())
    ref = draw(_reference(reference))
    word = draw(st.sampled_from(("by_service", "by_week", "nothing", "a" * 300)))
    params = draw(st.dictionaries(st.sampled_from(STAFF_QUERY), texts, max_size=4))
    if draw(st.booleans()):
        path = draw(st.sampled_from(STAFF_GETS)).format(ref=ref, word=word)
        return Req("staff_pages", "GET", path, params=params, auth=auth)
    path = draw(st.sampled_from(STAFF_POSTS)).format(ref=ref, word=word)
    form = draw(st.dictionaries(st.sampled_from(STAFF_FORM), texts, max_size=5))
    form.setdefault("csrf_token", "{csrf}")  # filled in with the session's token when sent
    if "outcome" not in form and draw(st.booleans()):
        form["outcome"] = draw(st.sampled_from(OUTCOMES))
    return Req("staff_pages", "POST", path, params=params, data=form, auth=auth)


WEBHOOKS = ("/voice/incoming", "/voice/turn", "/voice/no-input", "/voice/dial-result", "/voice/dial-status",
            "/voice/status", "/sms/incoming", "/voice/elsewhere")
WEBHOOK_QUERY = ("menu", "confirm", "offer", "silence", "choose", "engaged", "transfer", "service", "fallback")
TWILIO_FIELDS = ("CallSid", "From", "To", "SpeechResult", "Digits", "Confidence", "Body", "MessageSid",
                 "CallStatus", "CallDuration", "DialCallStatus", "ParentCallSid")


def _twilio_value(name: str) -> st.SearchStrategy:
    typical = {"CallSid": st.just("CA" + "0" * 32), "From": st.sampled_from(("+447700900123", "+15005550006",
                                                                             "anonymous", "")),
               "Digits": st.text(alphabet="0123456789*#", max_size=12), "Confidence": st.sampled_from(("0.9", "-3",
                                                                                                     "nan", "1e9"))}
    return st.one_of(typical.get(name, texts), texts)


@st.composite
def webhooks(draw: st.DrawFn) -> Req:
    auth = draw(_auth())
    path = draw(st.sampled_from(WEBHOOKS))
    params = draw(st.dictionaries(st.sampled_from(WEBHOOK_QUERY), short_texts, max_size=4))
    names = draw(st.lists(st.sampled_from(TWILIO_FIELDS), unique=True, max_size=8))
    form = {name: draw(_twilio_value(name)) for name in names}
    form.update(draw(st.dictionaries(short_texts, short_texts, max_size=3)))
    if draw(st.integers(0, 20)) == 0:
        return Req("webhooks", "POST", path, params=params, data=draw(st.sampled_from((
            b"x" * 40_000, b"&" * 5000, "=".join(["a"] * 300).encode(), b"\xff\xfe\x00"))), auth=auth,
            content_type="application/x-www-form-urlencoded")
    return Req("webhooks", "POST", path, params=params, data=form, auth=auth)


CHAT_GETS = ("/", "/chat", "/chat/privacy", "/chat/embed.js", "/chat/static/chat.js", "/chat/static/../app.py",
             "/chat/nothing", "/healthz")
CHAT_FORM = ("csrf_token", "message", "choice")
CHAT_CHOICES = ("0", "1", "2", "-1", "00", "9999", "1e3", "٣", " 1", "")


@st.composite
def web_chat(draw: st.DrawFn) -> Req:
    """auth good: the chat session under way (its cookie); none: a stranger's."""
    auth = draw(st.sampled_from(("good",) * 8 + ("none", "bad")))
    kind = draw(st.sampled_from(("get", "form", "form", "api", "api", "restart", "raw")))
    if kind == "get":
        params = draw(st.dictionaries(st.sampled_from(("embed", "x", "next")), short_texts, max_size=3))
        return Req("web_chat", "GET", draw(st.sampled_from(CHAT_GETS)), params=params, auth=auth)
    if kind in ("form", "restart"):
        form = draw(st.dictionaries(st.sampled_from(CHAT_FORM), st.one_of(texts, st.sampled_from(CHAT_CHOICES)),
                                    max_size=3))
        form.setdefault("csrf_token", "{chat_csrf}")
        # a restart with the good session's token would end the session the others use
        path, auth = ("/chat/send", auth) if kind == "form" else ("/chat/restart", "none")
        return Req("web_chat", "POST", path, data=form, auth=auth)
    if kind == "api":
        body = draw(st.one_of(
            st.fixed_dictionaries({}, optional={"message": _maybe(texts),
                                                "choice": _maybe(st.sampled_from(CHAT_CHOICES))}),
            json_values))
        return Req("web_chat", "POST", "/chat/api/send", body=body, has_body=True, auth=auth)
    raw = draw(st.one_of(st.binary(max_size=200), st.just(b"x" * 20_000), st.just(b"message=" + b"%FF" * 400)))
    return Req("web_chat", "POST", draw(st.sampled_from(("/chat/send", "/chat/api/send"))), data=raw, auth=auth,
               content_type=draw(st.sampled_from(("application/x-www-form-urlencoded", "application/json",
                                                  "multipart/form-data", "text/plain"))))


def requests_for(target: str, reference: str) -> st.SearchStrategy:
    if target == "case_api":
        return case_api(reference)
    if target == "staff_pages":
        return staff_pages(reference)
    if target == "web_chat":
        return web_chat()
    return webhooks()
