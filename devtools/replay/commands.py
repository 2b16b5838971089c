"""`python -m devtools replay run` and `record`."""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Sequence

from devtools.replay.bridge import replay_stack
from devtools.replay.common import ConversationFileError
from devtools.replay.files import Conversation, discover, load
from devtools.replay.in_process import InProcessBot, _environ, replay_in_process
from devtools.replay.record import conversation_document, dump, file_name, fill, stored_conversations, tracker_store_url
from devtools.replay.results import Result, junit_xml, summary_table


def command_run(paths: Sequence[str], *, model: Path | None, stack: str | None, token: str | None,
                public_url: str | None, clock: str | None, junit: str | None) -> int:
    """`python -m devtools replay run`: 0 when every conversation passed, 1 on
    any divergence or conversation that could not run, 2 on a bad file."""
    try:
        conversations = [load(path) for path in discover(paths)]
    except ConversationFileError as exc:
        print(exc)
        return 2
    if not conversations:
        print("No conversation files found.")
        return 2
    if stack:
        from devtools.simulator import DEVELOPMENT_TOKEN

        results = asyncio.run(replay_stack(conversations, stack, token=token or DEVELOPMENT_TOKEN,
                                           public_url=public_url, clock=clock or os.environ.get("FAKE_NOW") or None))
    else:
        assert model is not None
        results = asyncio.run(_replay_here(conversations, model))
    for result in results:
        if result.divergence is not None:
            print(f"\n{result.conversation.label}: {result.conversation.name}")
            print(result.divergence.side_by_side())
        elif result.status == "error":
            print(f"\n{result.conversation.label}: could not run: {result.reason}")
    print()
    print(summary_table(results))
    if junit:
        Path(junit).parent.mkdir(parents=True, exist_ok=True)
        Path(junit).write_text(junit_xml(results), encoding="utf-8")
        print(f"JUnit XML: {junit}")
    return 0 if all(result.ok for result in results) else 1


async def _replay_here(conversations: Sequence[Conversation], model: Path) -> list[Result]:
    async with _no_real_cases():
        return await replay_in_process(conversations, InProcessBot(model))


@asynccontextmanager
async def _no_real_cases() -> AsyncIterator[None]:
    """Cases a replayed conversation makes go to a throw-away outbox aimed
    at a port nothing listens on: a replay must never reach staff's queue."""
    import socket
    import tempfile

    from actions import outbox

    with tempfile.TemporaryDirectory(prefix="replay-") as scratch, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with _environ(HANDOFF_OUTBOX=str(Path(scratch) / "outbox.db"),
                      HANDOFF_URL=f"http://127.0.0.1:{sock.getsockname()[1]}"):
            outbox._default = None  # made again, from the settings above
            try:
                yield
            finally:
                if outbox._default is not None:
                    await outbox._default.stop()
                    outbox._default = None


def command_record(*, ids: Sequence[str], last: int | None, handoffs: bool, out: Path, when: str | None,
                   match: str, fill_paths: Sequence[str], model: Path | None, store: str | None = None) -> int:
    """`python -m devtools replay record`: stored conversations into files, or
    `--fill` the expectations of files written by hand."""
    if fill_paths:
        assert model is not None
        try:
            paths = discover(fill_paths)
            for path in paths:
                load(path)
        except ConversationFileError as exc:
            print(exc)
            return 2
        for path in asyncio.run(_fill_here(paths, model)):
            print(f"filled {path}")
        return 0
    try:
        url = store or tracker_store_url()
        stored = stored_conversations(url, ids=ids, last=last if last is not None else (None if ids else 1),
                                      handoffs=handoffs)
    except Exception as exc:  # noqa: BLE001 - said plainly, not as a trace
        print(f"Could not read the tracker store: {type(exc).__name__}: {exc}")
        return 1
    if not stored:
        print("No stored conversation matched.")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for _, events in stored:
        try:
            document = conversation_document(events, when=when, match=match)
        except ValueError as exc:
            print(f"skipped a conversation: {exc}")
            continue
        path = out / file_name(document)
        path.write_text(dump(document), encoding="utf-8")
        print(f"wrote {path}")
    return 0


async def _fill_here(paths: Sequence[Path], model: Path) -> list[Path]:
    async with _no_real_cases():
        return await fill(paths, InProcessBot(model))
