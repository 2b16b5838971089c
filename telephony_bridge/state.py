"""What the bridge remembers between the turns of a call, carried in the
query string of the next action URL so that the bridge itself stays
stateless (any replica can take the next turn)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Mapping
from urllib.parse import urlencode

_MENU_PATH = re.compile(r"^[0-9]{0,4}$")
_ID = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class TurnState:
    menu: str | None = None      # the keypad menu the caller is in ("" the main one); None: not in a menu
    confirm: str | None = None   # a directory entry the caller was asked to confirm
    offer: str | None = None     # a service the caller can be put through to by pressing 1
    silence: int = 0             # turns in a row with nothing heard
    choose: bool = False         # the bot asked between two options: 1 or 2 answers it
    engaged: bool = False        # the caller has said or pressed something on this call
    slow: bool = False           # the caller asked for more time: longer timeouts for the rest of the call

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "TurnState":
        """Read back a state; anything malformed (a tampered or stale URL)
        is dropped rather than trusted."""
        menu = query.get("menu")
        confirm = query.get("confirm")
        offer = query.get("offer")
        try:
            silence = min(max(int(query.get("silence", "0")), 0), 9)
        except ValueError:
            silence = 0
        return cls(
            menu=menu if menu is not None and _MENU_PATH.match(menu) else None,
            confirm=confirm if confirm and _ID.match(confirm) else None,
            offer=offer if offer and _ID.match(offer) else None,
            silence=silence,
            choose=query.get("choose") == "1",
            engaged=query.get("engaged") == "1",
            slow=query.get("slow") == "1",
        )

    def query(self) -> str:
        fields: dict[str, str] = {}
        if self.menu is not None:
            fields["menu"] = self.menu
        if self.confirm:
            fields["confirm"] = self.confirm
        if self.offer:
            fields["offer"] = self.offer
        if self.silence:
            fields["silence"] = str(self.silence)
        if self.choose:
            fields["choose"] = "1"
        if self.engaged:
            fields["engaged"] = "1"
        if self.slow:
            fields["slow"] = "1"
        return urlencode(fields)

    def url(self, path: str) -> str:
        query = self.query()
        return f"{path}?{query}" if query else path

    def heard(self) -> "TurnState":
        """The state for the next turn once the caller said or pressed something."""
        return replace(self, silence=0)


FRESH = TurnState()
