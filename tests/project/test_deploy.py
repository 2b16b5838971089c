"""The production deployment (docker-compose.yml, docker/Dockerfile,
.env.example) agrees with the code, checked without a Docker engine: every
service is health-checked and restarted, only the bridge and the staff pages
are published, each command is one its module accepts, ports and URLs agree,
no setting is set that nothing reads or read that nobody documents, each
container is given only the settings (and so the secrets) its own code
reads, and each connects to the database as a role of its own.

The checks are functions returning problems, so a test can break a copy of
the compose file and see the problem named."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from bot.training import FINGERPRINTED
from plumbing.paths import ROOT

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
OPERATIONS = ROOT / "docs" / "operations.md"
# what the image carries
CODE_DIRS = ("council", "plumbing", "bot", "actions", "telephony_bridge", "handoff", "webchat")
TOOL_DIRS = ("devtools",)  # read settings too, but stay out of the image


@dataclass(frozen=True)
class Contract:
    """What a project service runs and answers, as agreed between components."""

    module: str
    subcommand: tuple[str, ...]
    port: int
    health_path: str
    needs: dict[str, str | None]  # variables compose must set: name -> exact value, or None for any


CONTRACTS = {
    "rasa": Contract("bot", ("serve",), 5005, "/",
                     {"ACTION_SERVER_URL": None, "TRACKER_STORE_URL": None, "LOCK_STORE_URL": None,
                      "COUNCIL_ENV": "production"}),
    "actions": Contract("bot", ("actions",), 5055, "/health", {"HANDOFF_URL": None, "HANDOFF_OUTBOX": None,
                                                                         "COUNCIL_ENV": "production"}),
    "bridge": Contract("telephony_bridge", ("serve",), 8080, "/healthz",
                       {"RASA_URL": None, "DATABASE_URL": None, "COUNCIL_ENV": "production"}),
    "handoff": Contract("handoff", ("serve",), 8090, "/healthz",
                        {"DATABASE_URL": None, "COUNCIL_ENV": "production"}),
    "webchat": Contract("webchat", ("serve",), 8070, "/healthz", {"RASA_URL": None, "COUNCIL_ENV": "production"}),
}
BACKING = {"db": 5432, "redis": 6379}
# Runs to completion before the services that use the database start.
MIGRATE = "migrate"
MIGRATE_COMMAND = ("plumbing", ("migrate",))
ONE_OFF = {MIGRATE}
# The code each container runs (besides council and plumbing, which all do):
# what it is given must be read there.
SERVICE_CODE = {"rasa": ("bot",), "actions": ("bot", "actions"), "bridge": ("telephony_bridge",),
                "handoff": ("handoff",), "handoff-admin": ("handoff",), "webchat": ("webchat",), MIGRATE: ()}
SHARED_CODE = ("council", "plumbing")
# Each long-running service's own package: every documented setting it
# reads must reach it, or an operator's .env would be silently ignored.
OWN_CODE = {"rasa": "bot", "actions": "actions", "bridge": "telephony_bridge", "handoff": "handoff",
            "webchat": "webchat"}
NOT_PASSED = {
    "COUNCIL_MODEL_CACHE": "training only: the image carries the model trained at build time",
}
# The database role each container connects as (docker/postgres/roles.sh),
# and the .env variable its password comes from.
DB_ROLES = {MIGRATE: ("council_migrate", "MIGRATE_DB_PASSWORD"), "bridge": ("council_bridge", "BRIDGE_DB_PASSWORD"),
            "handoff": ("council_handoff", "HANDOFF_DB_PASSWORD"),
            "handoff-admin": ("council_handoff", "HANDOFF_DB_PASSWORD"),
            "rasa": ("council_rasa", "RASA_DB_PASSWORD")}
ROLES_SCRIPT_MOUNT = ("./docker/postgres/roles.sh", "/docker-entrypoint-initdb.d/")
PUBLISHED = {"bridge", "handoff", "webchat"}
# Which service each URL setting must point at (and so at that service's port).
URL_TARGETS = {"RASA_URL": "rasa", "ACTION_SERVER_URL": "actions", "HANDOFF_URL": "handoff",
               "DATABASE_URL": "db", "TRACKER_STORE_URL": "db", "LOCK_STORE_URL": "redis"}
TOOLS_PROFILE = "tools"

# Variables set or listed for someone other than this project's Python code.
# Each must say who reads it; anything else set must be read by the code.
THIRD_PARTY = {
    "POSTGRES_PASSWORD": "the postgres image (its superuser, which no service uses)",
    **{variable: "docker/postgres/roles.sh in the db container, and compose interpolation into that role's URL"
       for _, variable in DB_ROLES.values()},
    "POSTGRES_USER": "the postgres image",
    "POSTGRES_DB": "the postgres image",
    "COMPOSE_PROJECT_NAME": "docker compose (names containers and volumes)",
    "COUNCIL_IMAGE": "docker compose interpolation (the image tag)",
    "BRIDGE_PUBLISH": "docker compose interpolation (the bridge's published address)",
    "HANDOFF_PUBLISH": "docker compose interpolation (the staff pages' published address)",
    "WEBCHAT_PUBLISH": "docker compose interpolation (the web chat's published address)",
    "TF_CPP_MIN_LOG_LEVEL": "TensorFlow",
    "RASA_TELEMETRY_ENABLED": "Rasa (off: no telemetry leaves the council)",
    "PYTHONPATH": "Python",
    "PYTHONUNBUFFERED": "Python",
    "PYTHONDONTWRITEBYTECODE": "Python",
    "HOME": "Python and Rasa (per-user files)",
    "PATH": "the shell (the image's virtualenv)",
    "PIP_NO_CACHE_DIR": "pip, at build time",
    "PIP_DISABLE_PIP_VERSION_CHECK": "pip, at build time",
}

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE")
SECRET_VALUE = re.compile(
    r"^(AC|SK)[0-9a-fA-F]{32}$"  # Twilio account and API key SIDs
    r"|^[0-9a-fA-F]{32,}$"  # hex tokens (Twilio auth tokens are 32 hex digits)
    r"|^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/_=-]{24,}$"  # long random-looking strings
)
# How the code reads a setting: os.environ.get("X"), os.getenv("X"),
# os.environ["X"], env.get("X") on a mapping, or a settings helper that is
# given the mapping and the name, e.g. _int(env, "X", ...).
READ_PATTERNS = (
    re.compile(r"""(?:environ|env)\.get\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
    re.compile(r"""getenv\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
    re.compile(r"""(?:environ|env)\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\](?!\s*=[^=])"""),  # not a write
    re.compile(r"""\(\s*env\s*,\s*["']([A-Z][A-Z0-9_]*)["']"""),
)
# The same, with the name in a module constant: os.environ.get(DATA_ENV).
READ_BY_CONSTANT = re.compile(r"""(?:environ|env)(?:\.get\(|\[)\s*([A-Z][A-Z0-9_]*)\s*[,)\]]""")
CONSTANT = re.compile(r"""^([A-Z][A-Z0-9_]*)\s*=\s*["']([A-Z][A-Z0-9_]*)["']\s*$""", re.MULTILINE)
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


# --- reading the files ---------------------------------------------------------

def load_compose(path: Path = COMPOSE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_example_entries(text: str) -> dict[str, str]:
    """NAME -> value of every `NAME=value` line of an env file."""
    entries = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            entries[match.group(1)] = match.group(2).strip()
    return entries


def code_reads_all() -> dict[str, list[str]]:
    """Every setting the project's Python code reads -> every file that reads it."""
    found: dict[str, list[str]] = {}
    for directory in (*CODE_DIRS, *TOOL_DIRS):
        for path in sorted((ROOT / directory).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            names = [name for pattern in READ_PATTERNS for name in pattern.findall(text)]
            constants = dict(CONSTANT.findall(text))
            names += [constants[constant] for constant in READ_BY_CONSTANT.findall(text) if constant in constants]
            for name in dict.fromkeys(names):
                found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def code_reads() -> dict[str, str]:
    """Every setting the project's Python code reads -> one file that reads it."""
    return {name: paths[0] for name, paths in code_reads_all().items()}


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, pending = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            word, _, rest = full.partition(" ")
            joined.append((word.upper(), rest.strip()))
    return joined


def dockerfile_stages(text: str) -> dict[str, list[tuple[str, str]]]:
    """Instructions by stage name (`FROM image AS name`)."""
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for word, rest in dockerfile_instructions(text):
        if word == "FROM":
            name = rest.split()[-1] if " as " in rest.lower() else f"stage{len(stages)}"
            current = stages.setdefault(name, [])
        current.append((word, rest))
    return stages


def dockerfile_env(text: str) -> set[str]:
    """Names the Dockerfile sets with ENV NAME=value."""
    names = set()
    for word, rest in dockerfile_instructions(text):
        if word == "ENV":
            names.update(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", rest))
    return names


def copy_sources(args: str) -> list[str]:
    """The context paths of a COPY (not --from) instruction."""
    parts = [part for part in args.split() if not part.startswith("--")]
    return parts[:-1]


def service_env(service: dict) -> dict[str, str]:
    """NAME -> value; "" for a name given without a value (compose then
    takes it from .env, or leaves it unset)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}



def command_port(command: list[str]) -> int | None:
    for flag, value in zip(command, command[1:]):
        if flag == "--port":
            return int(value)
    return None


def health_url(service: dict) -> str | None:
    test = " ".join(str(part) for part in (service.get("healthcheck") or {}).get("test") or [])
    match = re.search(r"https?://[^'\"\s)]+", test)
    return match.group(0) if match else None


def container_ports(service: dict) -> set[int]:
    """Container ports of `expose` and `ports`: in a short mapping the part
    after the last colon, in a long one its `target`."""
    ports = {int(str(port)) for port in service.get("expose") or []}
    for mapping in service.get("ports") or []:
        if isinstance(mapping, dict):
            ports.add(int(mapping["target"]))
        else:
            ports.add(int(str(mapping).rsplit(":", 1)[-1].split("/")[0]))
    return ports


def is_tool(service: dict) -> bool:
    return TOOLS_PROFILE in (service.get("profiles") or [])


def listening_port(name: str, service: dict) -> int | None:
    if name in BACKING:
        return BACKING[name]
    return command_port(service.get("command") or [])


# --- the checks ------------------------------------------------------------------

def compose_problems(compose: dict) -> list[str]:
    """Everything wrong with a parsed compose file, one message each."""
    problems: list[str] = []
    services: dict[str, dict] = compose.get("services") or {}
    running = {name: service for name, service in services.items() if not is_tool(service)}
    missing = (set(CONTRACTS) | set(BACKING) | ONE_OFF) - set(running)
    problems += [f"{name}: no such service" for name in sorted(missing)]
    networks = compose.get("networks") or {}
    for name, service in running.items():
        if name in ONE_OFF:
            if service.get("restart") != "no":
                problems.append(f"{name}: runs once; restart must be 'no', not {service.get('restart')!r}")
            continue
        if not (service.get("healthcheck") or {}).get("test"):
            problems.append(f"{name}: no healthcheck")
        elif any(tool in str(service["healthcheck"]["test"]) for tool in ("curl", "wget")):
            problems.append(f"{name}: healthcheck uses a tool the slim image lacks")
        if service.get("restart") != "unless-stopped":
            problems.append(f"{name}: restart is {service.get('restart')!r}, not 'unless-stopped'")
        if service.get("ports") and name not in PUBLISHED:
            problems.append(f"{name}: publishes ports {service['ports']}; only {sorted(PUBLISHED)} may")
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            problems.append(f"{name}: depends_on without conditions")
            depends = {}
        for dependency, how in depends.items():
            if dependency not in services:
                problems.append(f"{name}: depends on unknown service {dependency}")
            if dependency in BACKING and (how or {}).get("condition") != "service_healthy":
                problems.append(f"{name}: must wait for {dependency} to be healthy (condition: service_healthy)")
    for name in PUBLISHED & set(running):
        if not running[name].get("ports"):
            problems.append(f"{name}: not published")
    for name in BACKING:
        for network in running.get(name, {}).get("networks") or ["default"]:
            if not (networks.get(network) or {}).get("internal"):
                problems.append(f"{name}: on network {network!r}, which is not internal")
    for name, contract in CONTRACTS.items():
        if name in running:
            problems += _project_service_problems(name, running[name], contract, services)
    problems += _url_problems(services)
    problems += _secret_problems(services)
    problems += _volume_problems(compose, services)
    problems += _own_settings_problems(services, code_reads_all())
    problems += _database_role_problems(services)
    return problems


def _own_settings_problems(services: dict, reads: dict[str, list[str]]) -> list[str]:
    """No container reads .env whole; each is given only settings its code
    reads (so no other service's secret), and every documented setting its
    own package reads (so an operator's .env is not silently ignored)."""
    problems = []
    documented = set(env_example_entries(ENV_EXAMPLE.read_text()))

    def read_by(directories: tuple[str, ...]) -> set[str]:
        return {name for name, paths in reads.items() if any(path.split("/")[0] in directories for path in paths)}

    for name, service in services.items():
        if service.get("env_file"):
            problems.append(f"{name}: reads env_file {service['env_file']!r}, which gives it every secret")
        if name not in SERVICE_CODE:
            continue
        allowed = read_by((*SERVICE_CODE[name], *SHARED_CODE))
        for variable in sorted(set(service_env(service)) - allowed - set(THIRD_PARTY)):
            problems.append(f"{name}: is given {variable}, which its code never reads")
        if name in OWN_CODE:
            wanted = (read_by((OWN_CODE[name],)) & documented) - set(NOT_PASSED)
            for variable in sorted(wanted - set(service_env(service))):
                problems.append(f"{name}: {variable} is read by its code but not passed to it")
    return problems


def _database_role_problems(services: dict) -> list[str]:
    """Each container connects as its own role, with that role's password;
    none as the superuser; the migration grants the roles the URLs use, and
    everything using the database waits for the migration to finish."""
    problems = []
    users: dict[str, str] = {}
    for name, service in services.items():
        for variable in ("DATABASE_URL", "TRACKER_STORE_URL"):
            value = service_env(service).get(variable)
            if not value:
                continue
            found = re.match(r"^[a-z0-9+]+://([^:/@]+):\$\{([A-Z0-9_]+)[^}]*\}@", value)
            expected = DB_ROLES.get(name)
            if found is None or expected is None or found.groups() != expected:
                problems.append(f"{name}: {variable} must connect as {expected and expected[0]!r} with "
                                f"${{{expected and expected[1]}}}, not {value!r}")
                continue
            users[name] = found.group(1)
            if name != MIGRATE and not _waits_for(service, MIGRATE, "service_completed_successfully"):
                problems.append(f"{name}: uses the database but does not wait for {MIGRATE} to complete")
    migrate = [str(part) for part in (services.get(MIGRATE) or {}).get("command") or []]
    grants = dict(part.split("=", 1) for part in (migrate[i + 1] for i, word in enumerate(migrate[:-1])
                                                   if word == "--grant"))
    for service in ("bridge", "handoff", "rasa"):
        if service in users and grants.get(service) != users[service]:
            problems.append(f"{MIGRATE}: grants {service}'s tables to {grants.get(service)!r}, "
                            f"but {service} connects as {users[service]!r}")
    if "--tracker" not in migrate:
        problems.append(f"{MIGRATE}: does not make Rasa's tracker table (--tracker), which rasa's role may not")
    db_env = service_env(services.get("db") or {})
    superuser = db_env.get("POSTGRES_USER", "postgres")
    problems += [f"{name}: connects as the superuser {superuser!r}"
                 for name, user in users.items() if user == superuser]
    for _, variable in DB_ROLES.values():
        if variable not in db_env:
            problems.append(f"db: {variable} is not given to roles.sh")
    source, target = ROLES_SCRIPT_MOUNT
    mounted = (services.get("db") or {}).get("volumes") or []
    if not any(str(volume).startswith(f"{source}:{target}") for volume in mounted):
        problems.append(f"db: {source} is not mounted into {target}, so no role is made")
    return problems


def _project_service_problems(name: str, service: dict, contract: Contract, services: dict) -> list[str]:
    problems = []
    command = [str(part) for part in service.get("command") or []]
    expected = ["python", "-m", contract.module, *contract.subcommand]
    if command[:len(expected)] != expected:
        problems.append(f"{name}: command {command[:len(expected)]} is not {expected}")
    port = command_port(command)
    if port != contract.port:
        problems.append(f"{name}: listens on {port}, the contract says {contract.port}")
    url = health_url(service)
    if url is None:
        problems.append(f"{name}: healthcheck requests no URL")
    else:
        parts = urlsplit(url)
        if parts.port != port:
            problems.append(f"{name}: healthcheck asks port {parts.port}, the command listens on {port}")
        if (parts.path or "/") != contract.health_path:
            problems.append(f"{name}: healthcheck asks {parts.path or '/'}, the service answers {contract.health_path}")
    if port is not None and port not in container_ports(service):
        problems.append(f"{name}: port {port} is not in expose/ports {sorted(container_ports(service))}")
    environment = service_env(service)
    for variable, value in contract.needs.items():
        if variable not in environment:
            problems.append(f"{name}: {variable} is not set")
        elif value is not None and environment[variable] != value:
            problems.append(f"{name}: {variable}={environment[variable]!r}, must be {value!r}")
    for variable in ("DATABASE_URL", "TRACKER_STORE_URL"):
        if variable in environment and not _waits_for_healthy(service, "db"):
            problems.append(f"{name}: uses the database but does not wait for db to be healthy")
    return problems


def _waits_for(service: dict, dependency: str, condition: str) -> bool:
    depends = service.get("depends_on")
    return isinstance(depends, dict) and (depends.get(dependency) or {}).get("condition") == condition


def _waits_for_healthy(service: dict, dependency: str) -> bool:
    return _waits_for(service, dependency, "service_healthy")


def _url_problems(services: dict) -> list[str]:
    """Every URL a service is given names a service of this file on the port it
    listens on (and the one the contract names for that setting)."""
    problems = []
    for name, service in services.items():
        for variable, value in service_env(service).items():
            if "://" not in value:
                continue
            parts = urlsplit(re.sub(r"\$\{[^}]*\}", "interpolated", value))
            host = parts.hostname
            target = URL_TARGETS.get(variable)
            if target is not None and host != target:
                problems.append(f"{name}: {variable} points at {host!r}, not at the {target} service")
            if host in services:
                expected = listening_port(host, services[host])
                if parts.port != expected:
                    problems.append(f"{name}: {variable} uses port {parts.port}, {host} listens on {expected}")
            if variable == "ACTION_SERVER_URL" and parts.path != "/webhook":
                problems.append(f"{name}: ACTION_SERVER_URL must end in /webhook")
    return problems


def _secret_problems(services: dict) -> list[str]:
    """Secrets come from the env file, never from this file: a secret-named
    setting or a URL's password is a ${...} interpolation or not set here."""
    problems = []
    for name, service in services.items():
        for variable, value in service_env(service).items():
            if SECRET_NAME.search(variable) and value and not value.startswith("${"):
                problems.append(f"{name}: {variable} has a literal value; take it from .env")
            password = re.match(r"^[a-z+]+://[^:/@]+:([^@]*)@", value)
            if password and not password.group(1).startswith("${"):
                problems.append(f"{name}: {variable} holds a literal password; interpolate it from .env")
    return problems


def _volume_problems(compose: dict, services: dict) -> list[str]:
    """PostgreSQL's data and the actions' outbox are on named volumes."""
    problems = []
    named = set(compose.get("volumes") or {})

    def mounts(service: str) -> dict[str, str]:
        found = {}
        for volume in (services.get(service) or {}).get("volumes") or []:
            source, _, target = str(volume).partition(":")
            found[target.split(":")[0]] = source
        return found

    if mounts("db").get("/var/lib/postgresql/data") not in named:
        problems.append("db: /var/lib/postgresql/data is not on a named volume")
    outbox = service_env(services.get("actions") or {}).get("HANDOFF_OUTBOX", "")
    if str(Path(outbox).parent) not in mounts("actions") or mounts("actions")[str(Path(outbox).parent)] not in named:
        problems.append(f"actions: the outbox {outbox!r} is not on a named volume")
    return problems


def env_drift(compose: dict, dockerfile: str, example: str, reads: dict[str, str]) -> list[str]:
    """Settings set or documented that nothing reads, and settings read that
    .env.example does not document."""
    documented = set(env_example_entries(example))
    problems = []
    set_by_compose = {variable for service in (compose.get("services") or {}).values()
                      for variable in service_env(service)}
    interpolated = set(INTERPOLATION.findall(yaml.safe_dump(compose)))
    for where, names in (("docker-compose.yml", set_by_compose | interpolated),
                         ("docker/Dockerfile", dockerfile_env(dockerfile)), (".env.example", documented)):
        for name in sorted(names - set(reads) - set(THIRD_PARTY)):
            problems.append(f"{where} sets {name}, which no code reads (or add it to THIRD_PARTY, saying who does)")
    for name in sorted(set(reads) - documented):
        problems.append(f"{reads[name]} reads {name}, which .env.example does not list")
    for name in sorted(interpolated - documented):
        problems.append(f"docker-compose.yml interpolates {name}, which .env.example does not list")
    return problems


def secret_looking(example: str) -> list[str]:
    """Entries of an env file that look like real secrets."""
    problems = []
    for name, value in env_example_entries(example).items():
        if SECRET_NAME.search(name) and value:
            problems.append(f"{name} has a value; secrets must be empty in .env.example")
        elif SECRET_VALUE.search(value):
            problems.append(f"{name}={value[:6]}... looks like a real secret")
    return problems


def dockerfile_problems(text: str, ignored: list[str]) -> list[str]:
    """COPY sources exist and are not ignored; the lock is installed as
    scripts/setup.sh does; the model is trained from the files that name it;
    the services run as a user that is not root."""
    problems = []
    stages = dockerfile_stages(text)
    copied: dict[str, set[str]] = {}
    for stage, instructions in stages.items():
        for word, rest in instructions:
            if word == "COPY" and "--from=" not in rest:
                for source in copy_sources(rest):
                    copied.setdefault(stage, set()).add(source.rstrip("/"))
                    if not (ROOT / source).exists():
                        problems.append(f"{stage}: COPY {source}: no such file in the repository")
                    if source.rstrip("/").split("/")[0] in ignored:
                        problems.append(f"{stage}: COPY {source}, which .dockerignore leaves out")
    arg = re.search(r"ARG PYTHON_IMAGE=(\S+)", text)
    if not arg or arg.group(1) != "python:3.10-slim-bookworm":
        problems.append("the base image is not python:3.10-slim-bookworm")
    runs = " ".join(rest for _, instructions in stages.items() for word, rest in instructions if word == "RUN")
    if not re.search(r"pip install [^&]*--no-deps -r \S*requirements\.lock", runs):
        problems.append("requirements.lock is not installed with --no-deps as scripts/setup.sh does")
    pip = re.search(r"pip==[0-9.]+", (ROOT / "scripts" / "setup.sh").read_text())
    if pip is None or pip.group(0) not in runs:
        problems.append(f"pip is not the version scripts/setup.sh installs ({pip and pip.group(0)})")
    training = [stage for stage, instructions in stages.items()
                if any(word == "RUN" and "python -m bot train" in rest for word, rest in instructions)]
    if not training:
        problems.append("no stage trains the model (python -m bot train)")
    final = list(stages)[-1]
    if training and not any(word == "COPY" and f"--from={training[0]}" in rest and "models" in rest
                            for word, rest in stages[final]):
        problems.append(f"the final stage does not copy the model from {training[0]}")
    for stage in (*training, final):
        for path in FINGERPRINTED:
            relative = str(path.relative_to(ROOT))
            if path.exists() and not any(relative == source or relative.startswith(source + "/")
                                         for source in copied.get(stage, ())):
                problems.append(f"{stage}: does not copy {relative}, so the model's fingerprint differs")
    users = [rest for word, rest in stages[final] if word == "USER"]
    if not users or users[-1] in ("root", "0"):
        problems.append("the final stage runs as root")
    for package in (*CODE_DIRS, "data", "requirements.lock"):
        if package not in copied.get(final, set()):
            problems.append(f"the final stage does not copy {package}")
    for package in TOOL_DIRS:
        if package in copied.get(final, set()):
            problems.append(f"the final stage copies {package}, which is for developers only")
    return problems


def dockerignore_entries() -> list[str]:
    return [line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def help_text(module: str, words: tuple[str, ...]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *words, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def unaccepted_options(command: list[str], help_output: str) -> list[str]:
    return [word for word in command if word.startswith("--") and word not in help_output]


# --- the tests ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


def test_compose_file_agrees_with_the_contracts(compose: dict) -> None:
    assert compose_problems(compose) == []


@pytest.mark.parametrize("service", sorted(CONTRACTS))
def test_each_command_is_one_its_module_accepts(compose: dict, service: str) -> None:
    command = [str(part) for part in compose["services"][service]["command"]]
    contract = CONTRACTS[service]
    done = help_text(contract.module, contract.subcommand)
    shown = " ".join(("python -m", contract.module, *contract.subcommand, "--help"))
    assert done.returncode == 0, (
        f"`{shown}` failed (exit {done.returncode}), so the {service} container would not start:\n"
        f"{done.stderr.strip()[-600:]}")
    assert unaccepted_options(command, done.stdout) == [], f"`{shown}` does not list these options"


def test_the_migration_command_is_one_plumbing_accepts(compose: dict) -> None:
    command = [str(part) for part in compose["services"][MIGRATE]["command"]]
    module, words = MIGRATE_COMMAND
    assert command[:3 + len(words)] == ["python", "-m", module, *words]
    done = help_text(module, words)
    assert done.returncode == 0, done.stderr[-600:]
    assert unaccepted_options(command, done.stdout) == []


def test_the_admin_commands_the_guide_gives_are_ones_handoff_accepts(compose: dict) -> None:
    admin = compose["services"]["handoff-admin"]
    assert admin["entrypoint"] == ["python", "-m", "handoff"] and is_tool(admin)
    documented = re.findall(r"docker compose run --rm handoff-admin ([a-z-]+)([^\n`]*)", OPERATIONS.read_text())
    assert {"add-staff", "purge"} <= {command for command, _ in documented}
    for command, arguments in documented:
        done = help_text("handoff", (command,))
        assert done.returncode == 0, f"python -m handoff {command}: {done.stderr.strip()[-400:]}"
        assert unaccepted_options(arguments.split(), done.stdout) == [], command


def test_settings_set_documented_and_read_agree(compose: dict) -> None:
    problems = env_drift(compose, DOCKERFILE.read_text(), ENV_EXAMPLE.read_text(), code_reads())
    assert problems == [], "\n".join(problems)


def test_env_example_holds_no_secrets() -> None:
    assert secret_looking(ENV_EXAMPLE.read_text()) == []


def test_dockerfile_copies_what_exists_and_installs_as_setup_does() -> None:
    ignored = dockerignore_entries()
    assert dockerfile_problems(DOCKERFILE.read_text(), ignored) == []
    for local in (".git", ".venv", ".env", "models", "var", "reports", "tests"):
        assert local in ignored, f".dockerignore must leave out {local}"


def stage_layout(dockerfile: str, stage: str, into: Path) -> Path:
    """The files a stage copies from the build context, laid out in `into`
    as the image has them under /app (the ignored caches left out)."""
    for word, rest in dockerfile_stages(dockerfile)[stage]:
        if word == "COPY" and "--from=" not in rest:
            for source in copy_sources(rest):
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, into / source.rstrip("/"),
                                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db"))
                else:
                    shutil.copy2(origin, into / source)
    return into


def _run_in(app: Path, probe: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", probe], cwd=app, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(app), "TF_CPP_MIN_LOG_LEVEL": "2"})


def test_the_model_stage_has_what_training_needs(tmp_path: Path) -> None:
    """The model stage's files import what `bot validate` and `bot train`
    use, and fingerprint as the repository does."""
    app = stage_layout(DOCKERFILE.read_text(), "model", tmp_path)
    done = _run_in(app, "import bot.__main__, bot.training, bot.validation, bot.nlu.components\n"
                        "from bot.training import fingerprint; print(fingerprint())")
    assert done.returncode == 0, done.stderr[-1500:]
    from bot.training import fingerprint

    assert done.stdout.strip().splitlines()[-1] == fingerprint()


def test_the_image_files_run_the_services_and_find_the_built_model(tmp_path: Path) -> None:
    """What the final stage copies is enough to load every service's code
    (nothing imports tests/ or scripts/, which the image leaves out), and it
    fingerprints as the model stage does, so `bot serve` finds the model
    trained at build time."""
    text = DOCKERFILE.read_text()
    app = stage_layout(text, list(dockerfile_stages(text))[-1], tmp_path)
    done = _run_in(app, "import importlib, pkgutil, actions\n"
                        "for m in pkgutil.walk_packages(actions.__path__, 'actions.'):\n"
                        "    importlib.import_module(m.name)\n"
                        "import bot.serve, telephony_bridge.app, handoff.app, handoff.db, webchat.app\n"
                        "from bot.training import fingerprint; print(fingerprint())")
    assert done.returncode == 0, done.stderr[-1500:]
    from bot.training import fingerprint

    assert done.stdout.strip().splitlines()[-1] == fingerprint()


# --- the checks can fail --------------------------------------------------------------

def _broken(compose: dict, change) -> dict:
    copied = copy.deepcopy(compose)
    change(copied["services"])
    return copied


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: s["handoff"].pop("healthcheck"), "handoff: no healthcheck"),
    (lambda s: s["redis"].update(restart="always"), "redis: restart is 'always'"),
    (lambda s: s["db"].update(ports=["5432:5432"]), "db: publishes ports"),
    (lambda s: s["bridge"].pop("ports"), "bridge: not published"),
    (lambda s: s["bridge"]["healthcheck"].update(
        test=["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/healthz')"]),
     "bridge: healthcheck asks port 8081"),
    (lambda s: s["bridge"]["environment"].update(RASA_URL="http://rasa:5006"), "RASA_URL uses port 5006"),
    (lambda s: s["actions"]["environment"].update(HANDOFF_URL="http://bridge:8080"),
     "HANDOFF_URL points at 'bridge'"),
    (lambda s: s["rasa"].update(command=["python", "-m", "bot", "serve", "--port", "5006"]),
     "rasa: listens on 5006"),
    (lambda s: s["bridge"]["environment"].pop("COUNCIL_ENV"), "bridge: COUNCIL_ENV is not set"),
    (lambda s: s["db"]["environment"].update(POSTGRES_PASSWORD="hunter2"), "db: POSTGRES_PASSWORD has a literal"),
    (lambda s: s["handoff"]["environment"].update(
        DATABASE_URL="postgresql://council_handoff:hunter2@db:5432/council"), "literal password"),
    (lambda s: s["bridge"].update(env_file=".env"), "bridge: reads env_file"),
    (lambda s: s["actions"]["environment"].update(TWILIO_AUTH_TOKEN=None), "actions: is given TWILIO_AUTH_TOKEN"),
    (lambda s: s["bridge"]["environment"].pop("SMS_REPLY_REGIONS"), "bridge: SMS_REPLY_REGIONS is read"),
    (lambda s: s["bridge"]["environment"].update(
        DATABASE_URL="postgresql://council_handoff:${HANDOFF_DB_PASSWORD}@db:5432/council"),
     "bridge: DATABASE_URL must connect as 'council_bridge'"),
    (lambda s: s["rasa"]["environment"].update(
        TRACKER_STORE_URL="postgresql://council:${POSTGRES_PASSWORD}@db:5432/council"),
     "rasa: TRACKER_STORE_URL must connect as 'council_rasa'"),
    (lambda s: s["handoff"]["depends_on"].pop("migrate"), "handoff: uses the database but does not wait for migrate"),
    (lambda s: s["migrate"].update(command=["python", "-m", "plumbing", "migrate", "--tracker",
                                            "--grant", "bridge=council_x"]), "grants bridge's tables to 'council_x'"),
    (lambda s: s["migrate"].update(restart="unless-stopped"), "migrate: runs once"),
    (lambda s: s["db"].update(volumes=["pgdata:/var/lib/postgresql/data"]), "no role is made"),
    (lambda s: s["actions"].pop("volumes"), "actions: the outbox"),
    (lambda s: s["handoff"]["depends_on"]["db"].update(condition="service_started"), "must wait for db"),
    (lambda s: s["redis"].update(networks=["edge"]), "redis: on network 'edge'"),
])
def test_a_broken_compose_file_is_reported(compose: dict, change, expected: str) -> None:
    problems = compose_problems(_broken(compose, change))
    assert any(expected in problem for problem in problems), problems


def test_drift_is_reported_both_ways(compose: dict) -> None:
    example = ENV_EXAMPLE.read_text()
    reads = code_reads()
    extra = _broken(compose, lambda s: s["bridge"]["environment"].update(BRIDGE_COLOUR="blue"))
    assert any("sets BRIDGE_COLOUR" in p for p in env_drift(extra, DOCKERFILE.read_text(), example, reads))
    unlisted = {**reads, "HANDOFF_NEW_SETTING": "handoff/settings.py"}
    assert any("reads HANDOFF_NEW_SETTING" in p
               for p in env_drift(compose, DOCKERFILE.read_text(), example, unlisted))


def test_the_reader_finds_each_way_the_code_reads_a_setting() -> None:
    text = 'os.environ.get("A_ONE") os.getenv("B_TWO") os.environ["C_THREE"] env.get("D_FOUR", "")\n' \
           '_int(env, "E_FIVE", 3, 1, 9)\nos.environ["WRITTEN"] = "1"\n'
    assert {name for pattern in READ_PATTERNS for name in pattern.findall(text)} == {
        "A_ONE", "B_TWO", "C_THREE", "D_FOUR", "E_FIVE"}
    assert READ_BY_CONSTANT.findall("os.environ.get(DATA_ENV) env.get(OTHER, '')") == ["DATA_ENV", "OTHER"]
    assert dict(CONSTANT.findall('DATA_ENV = "CLINC150_DATA"\n')) == {"DATA_ENV": "CLINC150_DATA"}
    assert {"TWILIO_AUTH_TOKEN", "HANDOFF_RETENTION_DAYS", "FAKE_NOW", "HANDOFF_OUTBOX"} <= set(code_reads())


def test_secret_looking_values_are_reported() -> None:
    example = "TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef\nTWILIO_ACCOUNT_SID=AC" + "ab" * 16 + \
              "\nHANDOFF_URL=http://handoff:8090\nSOME_KEY_ID=Zq8vT2xLmN4pR7sK9wYbC3dF\nFAKE_NOW=\n"
    problems = secret_looking(example)
    assert [p.split("=")[0].split(" ")[0] for p in problems] == ["TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID",
                                                                  "SOME_KEY_ID"]


def test_a_broken_dockerfile_is_reported() -> None:
    text = DOCKERFILE.read_text()
    broken = (text.replace("COPY handoff/ handoff/", "COPY handof/ handoff/")
              .replace("--no-deps -r", "-r").replace("USER council", "USER root"))
    problems = dockerfile_problems(broken, dockerignore_entries())
    for expected in ("COPY handof/", "--no-deps", "runs as root", "does not copy handoff"):
        assert any(expected in problem for problem in problems), (expected, problems)
    assert any("COPY tests" in p for p in dockerfile_problems(text + "COPY tests/ tests/\n", ["tests"]))
    assert any("copies devtools" in p for p in dockerfile_problems(text + "COPY devtools/ devtools/\n", []))


# --- docker compose config, where a compose tool is installed ---------------------

def compose_tool() -> list[str] | None:
    """`docker compose` (the plugin) or Debian's `docker-compose`, whichever runs."""
    if shutil.which("docker"):
        done = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if done.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        done = subprocess.run(["docker-compose", "version"], capture_output=True, text=True)
        if done.returncode == 0:
            return ["docker-compose"]
    return None


def _stack_dir(tmp_path: Path, overrides: dict[str, str]) -> Path:
    """A copy of the compose file beside a .env made from .env.example with
    made-up values, as an operator's would be."""
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    entries = env_example_entries(ENV_EXAMPLE.read_text())
    entries.update({"POSTGRES_PASSWORD": "test-only-not-a-secret", "TWILIO_AUTH_TOKEN": "test-only",
                    "HANDOFF_API_TOKEN": "test-only", "PUBLIC_BASE_URL": "https://calls.example.gov.uk"})
    entries.update({variable: f"test-only-{role}" for role, variable in DB_ROLES.values()})
    entries.update(overrides)
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in entries.items()))
    return tmp_path


def test_compose_config_accepts_the_file(tmp_path: Path) -> None:
    tool = compose_tool()
    if tool is None:
        pytest.skip("neither `docker compose` nor Debian's docker-compose is installed")
    stack = _stack_dir(tmp_path, {})
    done = subprocess.run([*tool, "--profile", TOOLS_PROFILE, "config"], cwd=stack, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    assert set(resolved) == {*CONTRACTS, *BACKING, *ONE_OFF, "handoff-admin"}
    for name in ("bridge", "handoff", "handoff-admin", MIGRATE):
        role = DB_ROLES[name][0]
        assert resolved[name]["environment"]["DATABASE_URL"] == f"postgresql://{role}:test-only-{role}@db:5432/council"
    assert resolved["rasa"]["environment"]["TRACKER_STORE_URL"].startswith("postgresql://council_rasa:test-only-")
    assert resolved["bridge"]["environment"]["TWILIO_AUTH_TOKEN"] == "test-only"  # taken from .env by name
    assert "TWILIO_AUTH_TOKEN" not in resolved["actions"]["environment"]
    assert {name for name, service in resolved.items() if service.get("ports")} == PUBLISHED
    assert all(service.get("healthcheck") for name, service in resolved.items()
               if name not in {"handoff-admin", *ONE_OFF})


def test_compose_config_refuses_a_missing_database_password(tmp_path: Path) -> None:
    tool = compose_tool()
    if tool is None:
        pytest.skip("neither `docker compose` nor Debian's docker-compose is installed")
    stack = _stack_dir(tmp_path, {"POSTGRES_PASSWORD": ""})
    done = subprocess.run([*tool, "config"], cwd=stack, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "POSTGRES_PASSWORD" in done.stderr
