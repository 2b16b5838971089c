"""Cross-checks of data/ and bot/ beyond what each loader checks: the NLU
intents, the rules and the catalogue must speak the same service ids."""

from __future__ import annotations

import subprocess
import sys

import yaml

from bot.training import CONFIG, DOMAIN, training_files
from bot.training_data import load_examples, topic_problems
from council import DATA_DIR
from council.catalogue import CatalogueError, load_catalogue
from council.clarifications import load_clarifications
from council.handoff_rules import load_handoff_rules
from council.postcodes import load_postcodes
from council.safety import load_safety
from council.signposts import load_signposts
from council.topics import load_topics
from plumbing.paths import ROOT


def consistency_problems() -> list[str]:
    """Every service id has an intent and a routing rule; every clarification
    has its intent; the catalogue, postcodes, clarifications and signposts load."""
    problems: list[str] = []
    try:
        catalogue = load_catalogue()
        load_postcodes()
        clarifications = load_clarifications()
        load_signposts()
        load_handoff_rules()
        topics = load_topics(catalogue=catalogue)
        safety = load_safety()
    except CatalogueError as exc:
        return [str(exc)]
    crisis = topics.get(safety.topic)
    if crisis is None or crisis.routable:
        problems.append(f"safety.yml: topic {safety.topic} must be an out-of-scope topic of data/topics.yml")
    problems += topic_problems(load_examples(), topics)
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    intents = set(domain.get("intents") or [])
    for service_id in catalogue.services:
        if service_id not in intents:
            problems.append(f"domain.yml: no intent for service {service_id}")
    for clarification in clarifications.items.values():
        if clarification.intent not in intents:
            problems.append(f"domain.yml: no intent {clarification.intent} for clarification {clarification.id}")
    rules = yaml.safe_load((DATA_DIR / "rules" / "services.yml").read_text(encoding="utf-8"))
    routed = {
        step["intent"]
        for rule in rules.get("rules") or []
        for step in rule.get("steps") or []
        if "intent" in step
    }
    for service_id in catalogue.routable_ids:
        if service_id not in routed:
            problems.append(f"data/rules/services.yml: no rule routes service {service_id}")
    return problems


def rasa_validate() -> list[str]:
    """`rasa data validate`, failing on warnings; its output when it fails."""
    command = [
        sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings",
        "--domain", str(DOMAIN), "--config", str(CONFIG), "--data", *training_files(),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode == 0:
        return []
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "UserWarning" in line or "rror" in line]
    return ["rasa data validate failed:"] + (lines or (done.stdout + done.stderr).splitlines()[-20:])


def validate_all() -> list[str]:
    return consistency_problems() or rasa_validate()
