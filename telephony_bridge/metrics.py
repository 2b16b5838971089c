"""The bridge's Prometheus metrics. Calls are measured from the same events
the call log records (so the two agree), texts where they are answered, and
the bot's failures where the bridge meets them, in its one client of Rasa."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

from plumbing.bot_client import BotReply
from plumbing.observability import LATENCY_BUCKETS, HttpMetrics
from telephony_bridge.calllog import FINAL_STATUSES, CallLog
from telephony_bridge.voice import AsyncCallLog

VOICE = "voice"
SMS = "sms"


class BridgeMetrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__("bridge")
        registry = self.registry
        self.turns = Counter("bridge_turns", "Caller turns by channel and kind (speech, dtmf, no_input; text for SMS)",
                             ["channel", "kind"], registry=registry)
        self.turn_latency = Histogram("bridge_turn_duration_seconds",
                                      "Time the bridge took to answer a turn, the bot's answer included",
                                      ["channel"], buckets=LATENCY_BUCKETS, registry=registry)
        self.bot_unavailable = Counter("bridge_bot_unavailable",
                                       "Turns the bot did not answer in time or usably (the caller got the "
                                       "bridge's own answer)", ["channel", "cause"], registry=registry)
        self.calls_started = Counter("bridge_calls_started", "Calls answered", registry=registry)
        self.calls_ended = Counter("bridge_calls_ended", "Twilio's final call status callbacks, by status", ["status"],
                                   registry=registry)
        self.transfers = Counter("bridge_transfers", "Transfers to a phone line, by why", ["reason"],
                                 registry=registry)
        self.handoffs = Counter("bridge_handoffs", "Cases left for staff (the bot said a reference)", ["channel"],
                                registry=registry)
        self.calllog_late = Counter("bridge_calllog_writes_late",
                                    "Call log writes the caller was not kept waiting for (the database was slow "
                                    "or stalled); they are written once it answers", ["event"], registry=registry)
        self.calllog_dropped = Counter("bridge_calllog_writes_dropped",
                                       "Call log writes lost: the write failed, or too many were waiting",
                                       ["event", "why"], registry=registry)
        self.limited = Counter("bridge_limited",
                               "Calls and texts not answered as usual: over a per-number limit, or a text from "
                               "a number outside SMS_REPLY_REGIONS", ["channel", "why"], registry=registry)
        self.signature_rejections = Counter("bridge_signature_rejections",
                                            "Twilio requests refused before any work: no, a malformed or a wrong "
                                            "X-Twilio-Signature, too large, too many or too long fields, not a POST",
                                            ["problem"], registry=registry)

    def turn(self, channel: str, kind: str, seconds: float) -> None:
        self.turns.labels(channel, kind).inc()
        self.turn_latency.labels(channel).observe(seconds)

    def bot_answered(self, channel: str, reply: BotReply) -> None:
        if reply.event("handoff") is not None:
            self.handoffs.labels(channel).inc()

    def bot_failed(self, channel: str, cause: str) -> None:
        self.bot_unavailable.labels(channel, cause).inc()

    def call_event(self, method: str, args: tuple[Any, ...]) -> None:
        """One call log write (`method` of CallLog with its arguments)."""
        if method == "call_started":
            self.calls_started.inc()
        elif method == "turn":
            _call, kind, _at, latency_ms = args[:4]
            self.turn(VOICE, kind, latency_ms / 1000)
        elif method == "transfer_started":
            self.transfers.labels(args[3]).inc()
        elif method == "call_status" and args[1] in FINAL_STATUSES:
            self.calls_ended.labels(args[1]).inc()


class MeteredCallLog(AsyncCallLog):
    """The call log's writes, each also counted (even when the write fails
    or is late: the call happened either way), late and lost ones too."""

    def __init__(self, call_log: CallLog | None, metrics: BridgeMetrics, deadline_s: float = 0.25) -> None:
        super().__init__(call_log, deadline_s, on_late=lambda event: metrics.calllog_late.labels(event).inc(),
                         on_dropped=lambda event, why: metrics.calllog_dropped.labels(event, why).inc())
        self._metrics = metrics

    async def run(self, method: str, *args: Any) -> Any:
        self._metrics.call_event(method, args)
        return await super().run(method, *args)
