"""Place names of the district as a phone speech recogniser mishears them.

A recogniser that does not know "Heysham" returns "hey sham", and "hey" then
reads as a greeting; "more cam" is not Morecambe to a model that learnt the
word from typed text. A local call handler hears the place. `for_matching`
puts the place's own spelling back before the classifier and the sentence
encoder see the text; what the resident said (the transcript, the case) is
never changed.

Only multi-word splits and mishearings of names are listed, each of them a
name's sound that is not an everyday phrase; road numbers ("a six") are not,
because "a six month wait" is not the A6.
"""

from __future__ import annotations

import re

# canonical spelling: how a recogniser returns it (lower case, word by word)
MISHEARD: dict[str, tuple[str, ...]] = {
    "heysham": ("hey sham", "hay sham", "hey shum", "hay shum", "hey shem", "hays ham"),
    "morecambe": ("more cam", "more cum", "more camb", "moore cam", "mor cam", "more cambe", "morecam", "more kam"),
    "carnforth": ("carn forth", "corn forth", "khan forth", "con forth", "car forth"),
    "lancaster": ("lan caster", "lang caster", "lan castor"),
    "galgate": ("gal gate", "gall gate", "gale gate"),
    "silverdale": ("silver dale",),
    "torrisholme": ("torris home", "tories home", "torres home", "torris holm", "torrisholm", "tory's home"),
    "skerton": ("sker ton", "scurton", "skirton", "scurt on"),
    "scotforth": ("scot forth", "scott forth", "scotford"),
    "bowerham": ("bower ham", "bowram", "bowerum", "bow ram"),
    "quernmore": ("quern more", "kwernmore", "quarn more", "kern more"),
    "salt ayre": ("salt air", "sort air", "salt are", "salt ayer", "sought air", "salt heir"),
    "bolton-le-sands": ("bolton lee sands", "bolton le sands", "bolton the sands", "bolton les sands",
                        "bolton la sands"),
    "hest bank": ("hess bank", "heist bank"),
    "arkholme": ("ark home", "ark holme", "ark holm"),
    "ryelands": ("rye lands",),
    "caton": ("kay ton", "cayton"),
    "slyne": ("sline",),
}

_PATTERN = re.compile(
    r"\b(" + "|".join(sorted((re.escape(s) for forms in MISHEARD.values() for s in forms), key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_CANONICAL = {spoken: name for name, forms in MISHEARD.items() for spoken in forms}


def for_matching(text: str) -> str:
    """The text with misheard place names spelt as the place (else unchanged)."""
    return _PATTERN.sub(lambda m: _CANONICAL[m.group(0).lower()], text)
