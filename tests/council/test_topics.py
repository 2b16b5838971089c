"""data/topics.yml: every topic under a real service, answers that name the
council, GOV.UK's list covered with the right council, and a bad entry
refused with a message that names the file and the entry."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.training_data import load_examples, topic_problems
from council import DATA_DIR
from council.catalogue import CatalogueError, default_catalogue
from council.topics import load_topics
from devtools import govuk

NAMES = {"city": ("Lancaster City Council", "City Council"), "county": ("Lancashire County Council", "County Council")}


@pytest.fixture(scope="module")
def topics():
    return load_topics()


def test_at_least_300_council_topics_and_every_service_has_some(topics) -> None:
    council = [t for t in topics.items.values() if t.routable]
    assert len(council) >= 300
    per_service = Counter(t.service for t in council)
    assert set(per_service) == set(default_catalogue().routable_ids)
    assert min(per_service.values()) >= 4, per_service.most_common()[-3:]


def test_every_council_topic_says_which_council(topics) -> None:
    catalogue = default_catalogue()
    unnamed = []
    for topic in topics.items.values():
        authority = catalogue.service(topic.service).authority
        if authority in NAMES and not any(name in topic.say for name in NAMES[authority]):
            unnamed.append(topic.id)
        if authority == "joint" and not ("City Council" in topic.say or "County Council" in topic.say
                                         or "councils" in topic.say):
            unnamed.append(topic.id)
    assert unnamed == []


def test_out_of_scope_answers_never_claim_a_council_does_it(topics) -> None:
    for topic in topics.items.values():
        if not topic.routable:
            assert topic.say and "we can" not in topic.say.lower(), topic.id


def test_every_topic_has_enough_training_examples_of_its_own_service(topics) -> None:
    assert topic_problems(load_examples(), topics) == []


def test_each_lgsl_code_maps_once_and_labels_read_as_a_question(topics) -> None:
    for topic in topics.items.values():
        question = f"Is that about {topic.label}?"
        assert not topic.label.endswith((".", "?")) and len(question) < 120, topic.id


@pytest.fixture(scope="module")
def rows() -> list[govuk.Row]:
    path = govuk.reference_csv()
    if not path.exists():
        pytest.skip("shared/reference is not beside this checkout")
    return govuk.load_rows(path)


def test_every_govuk_row_maps_to_a_topic_of_the_right_council_or_a_documented_entry(topics, rows) -> None:
    wrong = []
    for expect in govuk.expected(rows, topics):
        if expect.handled_by is not None:
            continue  # documented in govuk_exceptions, with why
        if not expect.topics:
            wrong.append(f"LGSL {expect.row.lgsl} {expect.row.description!r}: no topic")
        for topic_id in expect.topics:
            topic = topics.items[topic_id]
            authority = default_catalogue().service(topic.service).authority
            if not expect.row.agrees(authority) and not topic.govuk_note:
                wrong.append(f"LGSL {expect.row.lgsl}: topic {topic_id} is {authority}, "
                             f"GOV.UK says {expect.row.tier}, and no govuk_note says why")
    assert wrong == []


def test_every_code_on_a_topic_is_on_the_govuk_list(topics, rows) -> None:
    listed = {row.lgsl for row in rows}
    for topic in topics.items.values():
        assert set(topic.govuk) <= listed, topic.id
    assert set(topics.govuk_exceptions) <= listed


def test_exceptions_are_handled_by_an_intent_the_bot_has(topics) -> None:
    domain = yaml.safe_load((DATA_DIR.parent / "bot" / "domain.yml").read_text())
    for exception in topics.govuk_exceptions.values():
        assert exception.handled_by in domain["intents"] and exception.why


# --- a bad file is refused, naming the entry --------------------------------------------------


def _copy(tmp_path: Path, change) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target, ignore=shutil.ignore_patterns("nlu", "rules"))
    raw = yaml.safe_load((target / "topics.yml").read_text())
    change(raw)
    (target / "topics.yml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return target


@pytest.mark.parametrize("change, message", [
    (lambda raw: raw["topics"][0].update(service="bins_and_more"), "is not in services.yml"),
    (lambda raw: raw["topics"][0].pop("say"), "missing say"),
    (lambda raw: raw["topics"].append(dict(raw["topics"][0])), "appears twice"),
    (lambda raw: raw["topics"][0].update(web="http://example.org"), "https://"),
    (lambda raw: raw["topics"][0].update(say="See https://example.org now."), "web address"),
    (lambda raw: raw["topics"][0].update(words=[]), "words"),
    (lambda raw: raw["topics"][0].update(colour="blue"), "unknown field"),
    (lambda raw: raw["topics"][0].update(govuk=[57, 57]), "LGSL code twice"),
    (lambda raw: raw["topics"][0].update(govuk=["57"]), "LGSL codes"),
    (lambda raw: raw["topics"][0].update(say=" ".join(["word"] * 80)), "read well aloud"),
])
def test_a_bad_topic_is_refused_naming_it(tmp_path: Path, change, message: str) -> None:
    first = yaml.safe_load((DATA_DIR / "topics.yml").read_text())["topics"][0]["id"]
    data = _copy(tmp_path, change)
    with pytest.raises(CatalogueError) as refused:
        load_topics(data)
    assert "topics.yml" in str(refused.value)
    assert message in str(refused.value)
    assert first in str(refused.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="topics.yml: file is missing"):
        load_topics(tmp_path)
