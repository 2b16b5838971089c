"""A call simulator: phones a running bridge exactly as Twilio would.

It sends Twilio's webhook requests (form fields, `X-Twilio-Signature`),
executes the TwiML that comes back verb by verb, takes the caller's side
from a script or the keyboard, and writes a transcript, one event a line:

    bot: <said text>      you: <speech>      keys: <digits>      silence
    play: <url>           pause: <n>s        skip: <Verb>        unheard: <why>
    callerid: <number>    dial: <number> -> <outcome>
    hangup: bridge        hangup: caller     error: <text>

Caller lines (script or keyboard): plain text is speech, `#123` presses keys,
an empty line or `...` is silence, `!dial busy|no-answer|failed|completed`
sets the outcome of the next <Dial>, `!confidence 0.4` the confidence of the
next speech, `!hangup` hangs up, and `;` starts a comment.

    python -m devtools call --script FILE [--url http://127.0.0.1:8080]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import AsyncIterator, Iterable, TextIO

import aiohttp

from devtools.simulator.call import Call
from devtools.simulator.caller import Caller, LineSource, ScriptError, Transcript, parse_line
from devtools.simulator.common import (
    DEFAULT_CALLED,
    DEFAULT_CALLER,
    DEFAULT_URL,
    DEVELOPMENT_TOKEN,
    CallResult,
    new_sid,
    signed_headers,
)


async def run_call(
    base_url: str,
    lines: Iterable[str] | AsyncIterator[str] | None,
    *,
    auth_token: str,
    caller: str = DEFAULT_CALLER,
    called: str = DEFAULT_CALLED,
    public_base_url: str | None = None,
    status_path: str = "/voice/status",
    session: aiohttp.ClientSession | None = None,
    out: TextIO | None = None,
    max_requests: int = 200,
    account_sid: str | None = None,
) -> CallResult:
    """Phone the bridge at `base_url` once, as Twilio would, and return what
    happened. `lines` are the caller's (None: the keyboard, and the transcript
    then goes to stdout unless `out` says otherwise). `public_base_url` is the
    address Twilio would use; requests are signed for it but sent to `base_url`."""
    result = CallResult(call_sid=new_sid("CA"))
    if out is None and lines is None:
        out = sys.stdout
    transcript = Transcript(result, out)
    source = LineSource(lines)
    owned = session is None
    session = session or aiohttp.ClientSession()
    try:
        call = Call(
            session=session, base_url=base_url, public_base_url=public_base_url, auth_token=auth_token,
            caller=caller, called=called, account_sid=account_sid, status_path=status_path,
            max_requests=max_requests, caller_side=Caller(source, transcript), transcript=transcript,
            result=result,
        )
        await call.run()
    finally:
        if owned:
            await session.close()
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools call",
        description="Phone a running bridge as Twilio would and print the transcript.",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"where the bridge listens (default {DEFAULT_URL})")
    parser.add_argument("--script", metavar="FILE", help="caller lines to play (default: type them)")
    parser.add_argument("--from", dest="caller", default=DEFAULT_CALLER, help="the caller's number")
    parser.add_argument("--to", dest="called", default=DEFAULT_CALLED, help="the council number called")
    parser.add_argument(
        "--public-url", default=os.environ.get("PUBLIC_BASE_URL") or None,
        help="the address Twilio would use, to sign for (default: env PUBLIC_BASE_URL, else --url)",
    )
    parser.add_argument(
        "--token", default=os.environ.get("TWILIO_AUTH_TOKEN") or DEVELOPMENT_TOKEN,
        help="the auth token that signs requests (default: env TWILIO_AUTH_TOKEN, else the development token)",
    )
    parser.add_argument("--status-path", default="/voice/status", help="the call status callback path")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `call` command: 0 when the call went through, 1 when anything failed."""
    args = _parser().parse_args(argv)
    lines: list[str] | None = None
    if args.script:
        try:
            with open(args.script, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError as exc:
            print(f"error: cannot read the script: {exc}", file=sys.stderr)
            return 1
    result = asyncio.run(run_call(
        args.url, lines, auth_token=args.token, caller=args.caller, called=args.called,
        public_base_url=args.public_url, status_path=args.status_path, out=sys.stdout,
        account_sid=os.environ.get("TWILIO_ACCOUNT_SID") or None,
    ))
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["CallResult", "DEFAULT_CALLED", "DEVELOPMENT_TOKEN", "ScriptError", "main", "new_sid", "parse_line",
           "run_call", "signed_headers"]
