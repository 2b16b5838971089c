"""The phone-line bench's settings: levels, turns, think times, what callers say
and the targets."""

from __future__ import annotations

FAKE_NOW = "2026-11-10T10:30:00"  # a Tuesday morning: every line is open, so no "closed" branches
BENCH_TOKEN = "bench-auth-token-0123456789"
ACCOUNT_SID = "AC" + "b" * 32
CALLED = "+441632960000"
CALLER_PREFIX = "+4477009"  # Ofcom's drama range, plus 5 random digits
DEFAULT_LEVELS = (1, 5, 10, 20, 50)
QUICK_LEVELS = (1, 5)
DEFAULT_TURNS = 6
QUICK_TURNS = 3
MODES = ("paced", "back-to-back")
CALLS_PER_CALLER = {"paced": 1, "back-to-back": 2}
THINK_S = (4.0, 8.0)  # a caller hears the answer, then speaks
STAGGER_S = 4.0  # paced callers do not all dial in the same instant
REQUEST_TIMEOUT_S = 15.0  # Twilio gives up on a voice webhook after 15 s
WARM_UP_TURNS = 2  # the first turns build TensorFlow graphs in Rasa; not measured
TARGET = {"mode": "paced", "level": 20, "p95_ms": 400.0}
TWIML_TYPES = ("text/xml", "application/xml")
# The bridge's words when the bot missed its time budget (voice.BOT_DOWN) or a
# fault was caught (app.SORRY): a 200 with TwiML, but not the answer asked for.
DEGRADED_MARKERS = ("having trouble understanding", "something went wrong")

# Spoken-style enquiries across the councils' services. None says yes, asks
# for a person, names someone in the directory, ends in "please"/"thanks"
# (the bridge reads that as "put me through") or sounds like an emergency,
# so calls last their turns; only "no thanks" may end one politely.
UTTERANCES = (
    "um my bin wasnt collected on tuesday",
    "how do i pay my council tax",
    "theres a pothole on our road",
    "when does the tip open",
    "i want to report fly tipping",
    "i need a blue badge for my mum",
    "the street light outside my house is out",
    "how do i apply for housing benefit",
    "i need a new wheelie bin",
    "can i get single person discount now my partner moved out",
    "do i need planning permission for an extension",
    "theres a leak in my council flat",
    "how do i get on the housing register",
    "someones parked on the double yellows outside my house",
    "i got a parking ticket in the town centre car park",
    "how do i register to vote",
    "i need to register a death",
    "where can i get a bus pass",
    "how do i apply for a school place for my son",
    "my library books are overdue",
    "can i book the tennis courts at the park",
    "theres graffiti on the bus shelter",
    "i want to complain about a noisy neighbour",
    "how do i get a taxi licence",
    "i think a shop sold me fake goods",
    "the footpath across the field is blocked",
    "what time does the council office open",
    "which council do i talk to about the roads",
    "my business rates bill looks wrong",
    "no thanks",
)
