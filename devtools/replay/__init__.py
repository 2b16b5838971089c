"""Conversation replay: recorded conversations as test files, replayed
against the current model before anything ships.

A conversation file (YAML, under tests/conversations/) holds what the
resident said or keyed, turn by turn, and what must come back:

    name: missed bin by text
    channel: sms                 # chat | sms | voice
    when: "2026-12-02T10:30"     # the clock during the conversation (London)
    match: text                  # text: replies word for word (default);
                                 # name: response names only (wording may change)
    turns:
      - say: my bin wasnt collected
        expect:
          intent: missed_bin
          route: missed_bin      # the service routed to; absent: none
          responses:
            - name: utter_...    # the domain response, or null for free text
              text: ...
          transfer: {service: ..., phone: ...}     # absent: must not happen
          handoff: {reason: ..., priority: ...}    # absent: must not happen
          hangup: emergency                        # absent: must not happen
      - keys: "31"               # voice: keys pressed from the main menu...
        say: /council_tax        # ...and what the bridge sent the bot for them

`run` replays each file in-process (the model in a Rasa Agent, the custom
actions called through the Rasa SDK's executor without a server) or, with
`--stack URL`, as phone calls and texts to a running bridge through the
call simulator, and reports the first turn that diverged, expected beside
actual. `record` writes such files from the tracker store, with callers'
numbers and names replaced, or fills in a file's expectations from what the
current bot does (`--fill`), for a developer to review before committing.
"""

from __future__ import annotations

from devtools.replay.bridge import by_turn, heard_turn, other_time, replay_stack
from devtools.replay.commands import command_record, command_run
from devtools.replay.common import (
    CHANNELS,
    CONVERSATIONS_DIR,
    FICTIONAL_CALLER,
    FICTIONAL_EMAIL,
    FICTIONAL_MOBILE,
    FICTIONAL_NAME,
    HEADER,
    MATCHES,
    ConversationFileError,
)
from devtools.replay.compare import Divergence, compare_heard, compare_turn, normalise
from devtools.replay.files import Conversation, Turn, discover, load
from devtools.replay.in_process import InProcessBot, replay_in_process
from devtools.replay.observed import Observed, split_turns
from devtools.replay.record import conversation_document, dump, file_name, scrub, stored_conversations
from devtools.replay.results import Result, junit_xml, summary_table

__all__ = [
    "CHANNELS",
    "CONVERSATIONS_DIR",
    "Conversation",
    "ConversationFileError",
    "Divergence",
    "FICTIONAL_CALLER",
    "FICTIONAL_EMAIL",
    "FICTIONAL_MOBILE",
    "FICTIONAL_NAME",
    "HEADER",
    "InProcessBot",
    "MATCHES",
    "Observed",
    "Result",
    "Turn",
    "by_turn",
    "command_record",
    "command_run",
    "compare_heard",
    "compare_turn",
    "conversation_document",
    "discover",
    "dump",
    "file_name",
    "heard_turn",
    "junit_xml",
    "load",
    "normalise",
    "other_time",
    "replay_in_process",
    "replay_stack",
    "scrub",
    "split_turns",
    "stored_conversations",
    "summary_table",
]
