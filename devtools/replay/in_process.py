"""Replay in process: the model in a Rasa Agent, the custom actions through
the Rasa SDK's executor without a server."""

from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from devtools.replay.common import FICTIONAL_CALLER
from devtools.replay.compare import compare_turn
from devtools.replay.files import Conversation
from devtools.replay.observed import Observed, split_turns
from devtools.replay.results import Result


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    """These environment variables for the length of the block, then as
    they were (the actions read theirs on every call, in this process)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def in_process_actions() -> Any:
    """An action endpoint that runs the project's custom actions in this
    process through the Rasa SDK's own executor: the same code the action
    server runs, without a server."""
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

    class InProcessActions(EndpointConfig):
        def __init__(self) -> None:
            super().__init__(url="in-process://actions")
            self.executor = ActionExecutor()
            self.executor.register_package("actions")

        async def request(self, method: str = "post", subpath: str | None = None,
                          content_type: str | None = "application/json", compress: bool = False,
                          **kwargs: Any) -> Any:
            call = json.loads(json.dumps(kwargs.get("json") or {}))  # as the server would receive it
            try:
                return await self.executor.run(call)
            except ActionExecutionRejection as exc:
                raise ClientResponseError(400, "", json.dumps({"error": exc.message,
                                                               "action_name": exc.action_name})) from None
            except ActionNotFoundException as exc:
                raise ClientResponseError(404, "", json.dumps({"error": exc.message,
                                                               "action_name": exc.action_name})) from None

    return InProcessActions()


class InProcessBot:
    """The current model in a Rasa Agent with the actions in-process; each
    conversation gets a new sender id and its own clock."""

    def __init__(self, model: Path) -> None:
        from rasa.core.agent import Agent

        self.agent = Agent.load(str(model), action_endpoint=in_process_actions())

    async def play(self, conversation: Conversation) -> list[Observed]:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        sender = f"replay-{uuid.uuid4().hex[:12]}"
        metadata: dict[str, Any] = {"channel": conversation.channel}
        if conversation.channel == "voice":
            metadata["caller"] = FICTIONAL_CALLER
        observed: list[Observed] = []
        with _environ(**({"FAKE_NOW": conversation.when} if conversation.when else {})):
            for turn in conversation.turns:
                text = turn.say if turn.say is not None else ""
                extra = {"keys": turn.keys} if turn.keys else {}
                await self.agent.handle_message(UserMessage(
                    text, CollectingOutputChannel(), sender_id=sender, input_channel="rest",
                    metadata={**metadata, **extra}))
                tracker = await self.agent.tracker_store.retrieve(sender)
                turns = split_turns(event.as_dict() for event in tracker.events) if tracker else []
                observed.append(turns[-1][1] if turns else Observed())
        return observed


async def replay_in_process(conversations: Sequence[Conversation], bot: InProcessBot) -> list[Result]:
    results = []
    for conversation in conversations:
        started = time.perf_counter()
        try:
            observed = await bot.play(conversation)
        except Exception as exc:  # noqa: BLE001 - one broken conversation must not hide the others
            results.append(Result(conversation, "error", reason=f"{type(exc).__name__}: {exc}",
                                  seconds=time.perf_counter() - started))
            continue
        divergence = next((d for d in (compare_turn(i, turn, seen) for i, (turn, seen)
                                       in enumerate(zip(conversation.turns, observed), 1)) if d), None)
        results.append(Result(conversation, "fail" if divergence else "pass", divergence,
                              seconds=time.perf_counter() - started, observed=observed))
    return results
