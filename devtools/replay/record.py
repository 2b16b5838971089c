"""Recording: conversations from the tracker store written as test files, with
callers' numbers and names replaced, or a file's expectations filled in."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from council.clock import LONDON
from devtools.replay.common import CHANNELS, FICTIONAL_EMAIL, FICTIONAL_MOBILE, FICTIONAL_NAME, HEADER
from devtools.replay.files import load
from devtools.replay.in_process import InProcessBot
from devtools.replay.observed import split_turns
from plumbing.paths import ROOT

_NAME_INTRO = re.compile(
    r"\b(my name is|my name's|name's|this is|i'm called|i am called|call me|it's)\s+"
    r"([A-Za-z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)", re.IGNORECASE)
_NOT_NAMES = {"about", "a", "an", "the", "my", "not", "just", "calling", "ringing", "regarding", "for", "to",
              "urgent", "lancaster", "council", "me", "still", "happening", "again", "really", "on", "at", "back",
              "when", "if", "later", "please", "tomorrow", "today", "now", "in", "i", "we", "so", "ok", "okay"}
_PHONE = re.compile(r"(?<![\w])(?:\+44\s?|0)(?:\d[\s-]?){9,10}(?![\w])")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_TYPED_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s?(\d)([A-Z]{2})\b", re.IGNORECASE)
_SPOKEN_DIGIT_WORDS = {"zero", "oh", "o", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                       "double", "triple"}
_LONGEST_SPOKEN_POSTCODE = 9  # "l a one one p j" is six words; allow "double" and stray spacing
_EMAIL_STAND_IN = "fictionalemailaddress"
FICTIONAL_UNIT = "ZZ"  # a postcode's last two letters: the sector stays, so routing does


def _postcode_sector(outward: str, digit: str) -> str:
    """A full postcode cut to its sector with a fictional unit: 'LA1 1PJ' ->
    'LA1 1ZZ'. The sector (which council, which centre) is what a replay
    needs; the unit (a street or two) is what identifies someone."""
    return f"{outward.upper()} {digit}{FICTIONAL_UNIT}"


def _scrub_spoken(text: str, replaced: dict[str, str]) -> str:
    """Spoken postcodes ("l a one one p j") to their sector, and runs of
    seven or more spoken digits (a phone number read out) to the fictional
    mobile, word by word."""
    from council.postcodes import normalise

    words = text.split(" ")
    out: list[str] = []
    index = 0
    while index < len(words):
        done = False
        for size in range(min(_LONGEST_SPOKEN_POSTCODE, len(words) - index), 3, -1):
            window = " ".join(words[index:index + size])
            found = normalise(window) if any(w.lower() in _SPOKEN_DIGIT_WORDS for w in words[index:index + size]) \
                else None
            if found and " " in found and not _TYPED_POSTCODE.fullmatch(window):
                outward, inward = found.split(" ")
                sector = _postcode_sector(outward, inward[0])
                replaced[window] = sector
                out.append(sector)
                index += size
                done = True
                break
        if done:
            continue
        run = index
        while run < len(words) and words[run].lower().strip(",.") in _SPOKEN_DIGIT_WORDS:
            run += 1
        if run - index >= 7:
            original = " ".join(words[index:run])
            replaced[original] = FICTIONAL_MOBILE
            out.append(FICTIONAL_MOBILE)
            index = run
            continue
        out.append(words[index])
        index += 1
    return " ".join(out)


def scrub(text: str, replaced: dict[str, str] | None = None) -> str:
    """`text` with phone numbers (typed or read out), e-mail addresses, names
    given ("my name is ..."), postcodes (cut to their sector) and card, bank,
    National Insurance numbers and dates of birth replaced by fictional ones
    or markers. Each value
    found is added to `replaced` so the bot's echo of it can be replaced too."""
    from council.redaction import redact

    replaced = {} if replaced is None else replaced

    def keep(original: str, fictional: str) -> str:
        replaced[original] = fictional
        return fictional

    text = _PHONE.sub(lambda m: keep(m.group(0), FICTIONAL_MOBILE), text)
    # A stand-in while redaction runs (it would take the fictional address
    # for a real one), put back at the end.
    text = _EMAIL.sub(lambda m: keep(m.group(0), FICTIONAL_EMAIL) and _EMAIL_STAND_IN, text)
    text = _TYPED_POSTCODE.sub(lambda m: keep(m.group(0), _postcode_sector(m.group(1), m.group(2))), text)
    text = _scrub_spoken(text, replaced)

    def name(match: re.Match[str]) -> str:
        words = match.group(2).split()
        if words[0].lower() in _NOT_NAMES:
            return match.group(0)
        words = [w for w in words if w.lower() not in _NOT_NAMES] or words[:1]
        original = " ".join(words)
        fictional = FICTIONAL_NAME if len(words) > 1 else FICTIONAL_NAME.split()[0]
        return match.group(0).replace(original, keep(original, fictional), 1)

    text = _NAME_INTRO.sub(name, text)
    return redact(text).replace(_EMAIL_STAND_IN, FICTIONAL_EMAIL)


def _apply(replaced: Mapping[str, str], text: str | None) -> str | None:
    if text is None:
        return None
    for original, fictional in replaced.items():
        text = text.replace(original, fictional)
    return text


def conversation_document(events: Sequence[Mapping[str, Any]], *, name: str | None = None,
                          when: str | None = None, match: str = "text") -> dict[str, Any]:
    """A tracker's events as a conversation file's contents, callers'
    details replaced."""
    turns = split_turns(events)
    if not turns:
        raise ValueError("the conversation has no message from a resident")
    first = turns[0][0]
    metadata = first.get("metadata") or {}
    channel = metadata.get("channel") if metadata.get("channel") in CHANNELS else "chat"
    if when is None and first.get("timestamp"):
        moment = datetime.fromtimestamp(float(first["timestamp"]), tz=timezone.utc).astimezone(LONDON)
        when = moment.strftime("%Y-%m-%dT%H:%M")
    replaced: dict[str, str] = {}
    written = []
    for user, observed in turns:
        text = scrub(str(user.get("text") or ""), replaced)
        for reply in observed.responses:
            reply["text"] = _apply(replaced, reply.get("text"))
        item: dict[str, Any] = {}
        keys = (user.get("metadata") or {}).get("keys")
        if channel == "voice" and keys and re.fullmatch(r"[0-9*#]+", str(keys)):
            item["keys"] = str(keys)
        item["say"] = text
        item["expect"] = observed.expectation()
        written.append(item)
    first_route = next((o.route for _, o in turns if o.route), None)
    title = name or f"{channel}: {first_route or turns[0][1].intent or 'conversation'}"
    document: dict[str, Any] = {"name": title, "channel": channel}
    if when:
        document["when"] = when
    document["match"] = match
    document["turns"] = written
    return document


def dump(document: Mapping[str, Any]) -> str:
    return HEADER + yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)


def file_name(document: Mapping[str, Any]) -> str:
    """A name from the channel and the first route, never the sender id."""
    first = document["turns"][0]["expect"]
    topic = first.get("route") or first.get("intent") or "conversation"
    digest = hashlib.sha256(dump(document).encode()).hexdigest()[:6]
    return f"{document['channel']}-{re.sub(r'[^a-z0-9_]+', '_', str(topic).lower())}-{digest}.yml"


def tracker_store_url(env: Mapping[str, str] | None = None) -> str:
    """Where Rasa keeps conversations: TRACKER_STORE_URL as `bot serve`
    reads it, a relative SQLite path taken from the repository root."""
    from sqlalchemy.engine import make_url

    from bot.serve import DEFAULT_TRACKER_STORE_URL, MEMORY

    env = os.environ if env is None else env
    url = env.get("TRACKER_STORE_URL", "").strip() or DEFAULT_TRACKER_STORE_URL
    if url == MEMORY:
        raise ValueError("TRACKER_STORE_URL=memory: the Rasa server keeps no conversations to record")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
        return f"sqlite:///{ROOT / parsed.database}"
    return url


def stored_conversations(url: str, *, ids: Sequence[str] = (), last: int | None = None,
                         handoffs: bool = False) -> list[tuple[str, list[dict[str, Any]]]]:
    """Conversations from Rasa's SQL tracker store, newest first: those with
    the sender ids given, else the last `last` (all when None); with
    `handoffs`, only those in which a case was made."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            table = sa.Table("events", sa.MetaData(), autoload_with=connection)
            if ids:
                senders = list(ids)
            else:
                from devtools.stack import WARM_UP_SENDER

                query = (sa.select(table.c.sender_id, sa.func.max(table.c.timestamp).label("latest"))
                         .where(table.c.sender_id != WARM_UP_SENDER)
                         .group_by(table.c.sender_id).order_by(sa.desc("latest")))
                senders = [row.sender_id for row in connection.execute(query)]
            found = []
            for sender in senders:
                rows = connection.execute(sa.select(table.c.data).where(table.c.sender_id == sender)
                                          .order_by(table.c.id)).all()
                events = [json.loads(row.data) for row in rows]
                if not events:
                    continue
                if handoffs and not any(o.handoff for _, o in split_turns(events)):
                    continue
                if not any(e.get("event") == "user" for e in events):
                    continue
                found.append((sender, events))
                if last is not None and not ids and len(found) >= last:
                    break
            return found
    finally:
        engine.dispose()


async def fill(paths: Sequence[Path], bot: InProcessBot) -> list[Path]:
    """Write into each file what the current bot does for its turns (for a
    new conversation written by hand, or after an intended change)."""
    written = []
    for path in paths:
        conversation = load(path)
        observed = await bot.play(conversation)
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item, seen in zip(raw["turns"], observed):
            item["expect"] = seen.expectation()
        path.write_text(dump(raw), encoding="utf-8")
        written.append(path)
    return written
