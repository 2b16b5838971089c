"""Redaction of payment details from what citizens said: digits and spoken
numbers, with everything around them kept, and nothing else touched."""

from __future__ import annotations

import random
import time

import pytest

from council.redaction import ACCOUNT, CARD, SECURITY_CODE, SORT_CODE, _luhn, redact

SPOKEN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def say(digits: str) -> str:
    return " ".join(SPOKEN[int(d)] for d in digits)


def test_the_example_numbers_are_what_the_tests_think() -> None:
    assert _luhn("4111111111111111") and _luhn("378282246310005") and _luhn("371449635398431")
    assert _luhn("4000000000000002") and _luhn("5555555555554444")
    assert not _luhn("4111111111111112") and not _luhn("1234567890123456")


@pytest.mark.parametrize(
    "said, kept",
    [
        # Card numbers typed, in every usual layout.
        ("my card is 4111 1111 1111 1111 thanks", f"my card is {CARD} thanks"),
        ("4111-1111-1111-1111", CARD),
        ("it's 4111111111111111.", f"it's {CARD}."),
        ("Mastercard 5555 5555 5555 4444, expiry 04/27", f"Mastercard {CARD}, expiry 04/27"),
        ("amex 3782 822463 10005 please", f"amex {CARD} please"),
        ("371449635398431", CARD),
        ("four one one one, one one one one, one one one one, one one one one", CARD),
        # Spoken, as speech recognition writes it.
        ("it is four one one one one one one one one one one one one one one one ok", f"it is {CARD} ok"),
        ("four one double one, double one double one, one one one one, one one one one", CARD),
        ("Four One Double One Double One Double One Triple One Triple One One One", CARD),
        ("card four oh oh oh oh oh oh oh oh oh oh oh oh oh oh two", f"card {CARD}"),
        ("four triple oh, double oh double oh, zero zero zero zero, nought nought nought two", CARD),
        ("4 double 1 1 1 1 1 1 1 1 1 1 1 triple 1", CARD),
        # Near the word "card", a misread card number goes too.
        ("card number 4111 1111 1111 1112", f"card number {CARD}"),
        # Sort codes.
        ("sort code 12-34-56", f"sort code {SORT_CODE}"),
        ("it's 12 34 56 at Barclays", f"it's {SORT_CODE} at Barclays"),
        ("sort code 123456", f"sort code {SORT_CODE}"),
        ("my sort-code is 12 34 56.", f"my sort-code is {SORT_CODE}."),
        ("sort code one two three four five six and then", f"sort code {SORT_CODE} and then"),
        ("the sortcode is twelve thirty four fifty six", f"the sortcode is {SORT_CODE}"),
        ("Sort code: 40-47-84, account number 12345678",
         f"Sort code: {SORT_CODE}, account number {ACCOUNT}"),
        # Account numbers.
        ("account number 12345678", f"account number {ACCOUNT}"),
        ("my account is 87654321", f"my account is {ACCOUNT}"),
        ("a/c 1234 5678 please", f"a/c {ACCOUNT} please"),
        ("acc no. 12345678", f"acc no. {ACCOUNT}"),
        ("my bank account number is eight seven six five four three two one", f"my bank account number is {ACCOUNT}"),
        ("the account is 12345678 and the other one 87654321", f"the account is {ACCOUNT} and the other one {ACCOUNT}"),
        # Security codes.
        ("security code 123", f"security code {SECURITY_CODE}"),
        ("the CVV is 1234", f"the CVV is {SECURITY_CODE}"),
        ("cv2: 987", f"cv2: {SECURITY_CODE}"),
        ("the three digits on the back are seven three one", f"the three digits on the back are {SECURITY_CODE}"),
        ("my card 4111 1111 1111 1111 expires 04/27 security code 737",
         f"my card {CARD} expires 04/27 security code {SECURITY_CODE}"),
        # Several in one turn, and a card in a longer run of numbers.
        ("12 34 56 4111 1111 1111 1111", f"{SORT_CODE} {CARD}"),
    ],
)
def test_payment_details_are_removed_and_the_rest_kept(said: str, kept: str) -> None:
    assert redact(said) == kept
    assert redact(kept) == kept


@pytest.mark.parametrize(
    "said",
    [
        "call me on 01632 960101 please",
        "my mobile is 07700 900123",
        "my number is +44 7700 900123",
        "oh one six three two, nine six oh one oh one",
        "I live at LA1 1PJ",
        "postcode LA4 5AF, flat 12",
        "my reference is LAN-7K3-Q9",
        "my reference is LAN-7K3-Q9X, lan 734 699",
        "reference L A N seven K for Kilo three Q for Quebec nine",
        "1234 5678 9012 3456 is my tenancy number",
        "4111 1111 1111 1112",
        "my council tax reference is 1234567",
        "I paid £1,250.50 on 12/03/2026",
        "I have 3 bins and 2 boxes",
        "the code is 123",
        "we moved in in nineteen eighty four",
        "one of them is at number 12, the other at 14",
        "at five o'clock on the twenty first",
        "Oh, I see. Double room please.",
        "123456 was my old password",
        "12345678",
        "",
        "<script>alert(1)</script>",
    ],
)
def test_other_numbers_and_text_survive(said: str) -> None:
    assert redact(said) == said


def test_every_spoken_layout_of_a_test_card(seed: int = 7) -> None:
    """A card read out in random groups, with 'double' and 'oh' where they
    fit, is always removed."""
    rng = random.Random(seed)
    for number in ("4111111111111111", "4000000000000002", "5555555555554444", "378282246310005"):
        for _ in range(25):
            words, index = [], 0
            while index < len(number):
                digit = number[index]
                name = "oh" if digit == "0" and rng.random() < 0.5 else SPOKEN[int(digit)]
                if index + 1 < len(number) and number[index + 1] == digit and rng.random() < 0.4:
                    words.append(f"double {name}")
                    index += 2
                else:
                    words.append(name)
                    index += 1
                if rng.random() < 0.2:
                    words[-1] += ","
            said = "it's " + " ".join(words).rstrip(",") + " thanks"
            assert redact(said) == f"it's {CARD} thanks", said


def test_random_luhn_failing_numbers_in_text_are_kept() -> None:
    rng = random.Random(11)
    checked = 0
    while checked < 200:
        digits = "".join(rng.choice("0123456789") for _ in range(16))
        if _luhn(digits):
            continue
        grouped = " ".join(digits[i:i + 4] for i in range(0, 16, 4))
        said = f"the meter reads {grouped} today"
        assert redact(said) == said
        checked += 1


def test_idempotent_on_mixed_text() -> None:
    text = (
        "Hi, card 4111 1111 1111 1111 and sort code 12 34 56, account 12345678, cvv 123. "
        "Call 01632 960101 about LAN-7K3-Q9 or 12-34-56 4111111111111111 9 9 "
    )
    once = redact(text)
    assert redact(once) == once
    assert "01632 960101" in once and "LAN-7K3-Q9" in once and "4111" not in once


def test_long_transcripts_are_redacted_quickly() -> None:
    turn = "my number is 01632 960101 and card 4111 1111 1111 1111, oh one two three. " * 2700
    started = time.perf_counter()
    result = redact(turn[:200_000])
    assert time.perf_counter() - started < 5
    assert "4111 1111" not in result and result.count(CARD) >= 2600


def test_a_very_long_run_of_numbers_is_handled() -> None:
    rng = random.Random(3)
    digits = " ".join(rng.choice("0123456789") for _ in range(60_000))
    started = time.perf_counter()
    once = redact(digits)
    assert time.perf_counter() - started < 10
    assert redact(once) == once
    spoken = " ".join(rng.choice(SPOKEN) for _ in range(20_000))
    assert redact(redact(spoken)) == redact(spoken)


def test_redacting_twice_changes_nothing_more_on_random_text() -> None:
    rng = random.Random(5)
    pieces = SPOKEN + ["double", "triple", "oh", "card", "sort code", "account", "a/c", "security code", "cvv",
                       "is", "my", "the", "on the back", ",", "-", ".", "no.", "12", "34", "56", "4111", "1111",
                       "12345678", "123", "01632", "960101", "LA1", "1PJ", "LAN-7K3-Q9", "twenty", "twelve"]
    for _ in range(2000):
        said = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        once = redact(said)
        assert redact(once) == once, said


# --- personal details: National Insurance numbers, e-mail addresses, dates of birth ---


@pytest.mark.parametrize("said, expected", [
    ("my NI number is QQ 12 34 56 C", "my NI number is [National Insurance number removed]"),
    ("qq123456c", "[National Insurance number removed]"),
    ("q q 12 34 56 c is my number", "[National Insurance number removed] is my number"),
    ("national insurance number one two three four five six c",
     "national insurance number [National Insurance number removed] c"),
    ("email me at jo.smith@example.com please", "email me at [email address removed] please"),
    ("it's jo dot smith at gmail dot com", "it's [email address removed]"),
    ("send it to bob at hotmail.co.uk", "send it to [email address removed]"),
    ("I was born on 12/03/1956", "I was born on [date of birth removed]"),
    ("date of birth the twelfth of march nineteen fifty six", "date of birth [date of birth removed]"),
    ("his DOB is 3 Jan 2001", "his DOB is [date of birth removed]"),
    ("mum was born March 12, 1948 and needs help", "mum was born [date of birth removed] and needs help"),
    ("she's 84, 14th July 1942", "she's 84, [date of birth removed]"),
])
def test_personal_details_are_removed(said: str, expected: str) -> None:
    assert redact(said) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize("said", [
    "I paid on 12/03/2026", "the bill dated 1 April 2025", "my sort code is 12-34-56",
    "meet me at the town hall", "I was born in 1956 and lived here since", "I'm at home on 12 March",
    "is 960101 the right number", "LA1 1PJ", "LAN-7K3-Q9X", "call 01632 960101",
])
def test_what_is_not_a_personal_detail_is_kept(said: str) -> None:
    assert "removed]" not in redact(said) or "sort code" in said


def test_a_detail_split_across_turns_is_found() -> None:
    from council.redaction import redact_turns

    assert redact_turns(["my card is 4111 1111", "1111 1111 ok"]) == ["my card is [card number removed]", "ok"]
    assert redact_turns(["my account number is", "12345678"]) == ["my account number is", "[account number removed]"]
    assert redact_turns(["QQ 12", "34 56 C"]) == ["[National Insurance number removed]", ""]
    # Nothing across the turns: each turn as redact leaves it.
    turns = ["4111 1111 1111 1111", "my bins", "LA1 1PJ"]
    assert redact_turns(turns) == [redact(turn) for turn in turns]
