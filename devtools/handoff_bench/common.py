"""The case bench's settings: how many cases, clients and retries, the token,
the timeouts and what counts as finished."""

from __future__ import annotations

from council.references import ALPHABET, RANDOM_CHARACTERS
from plumbing.database import LOCAL_POSTGRES

DEFAULT_CASES = 10_000
QUICK_CASES = 500
DEFAULT_CLIENTS = 20
DATABASES = ("sqlite", "postgresql")
RETRY_SHARE = 0.05
OPERATIONS = ("create", "retry", "claim", "outcome")
PHASES = ("create", "claim", "outcome")  # retries are sent during the create phase
BENCH_TOKEN = "bench-handoff-token-" + "0123456789abcdef"
REQUEST_TIMEOUT_S = 30.0
HEALTH_TIMEOUT_S = 60.0
PG_HOST, PG_PORT = LOCAL_POSTGRES
PG_ADMIN_DATABASE = "test"
FINISHED = ("resolved", "closed_no_contact")
REFERENCE_SPACE = len(ALPHABET) ** RANDOM_CHARACTERS
TARGET = "zero lost or duplicated cases"
# Places the centre chooser sends to different centres (LA4 -> Morecambe), and none.
POSTCODES = ("LA1 1PJ", "LA4 5AF", "LA2 6ND", "LA3 1AA", None)
TRANSCRIPT = (
    ("caller", "hello i need some help with something"),
    ("bot", "Hello, I'm the council's assistant. What can I help you with?"),
    ("caller", "ive been trying to sort this out for two weeks and nobody gets back to me"),
    ("bot", "I'm sorry about that. Can you tell me a bit more?"),
    ("caller", "i just want to talk to a person please"),
    ("bot", "I'll pass this to a member of staff with what you've told me."),
)
