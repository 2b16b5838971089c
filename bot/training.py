"""Train the bot's model when (and only when) its inputs changed.

A model is named after a fingerprint of everything that shapes it: the Rasa
config and domain, the training data, the project's own NLU components and
the pinned dependencies. `ensure_model()` returns models/council-<hash>.tar.gz,
copying it from the cache (COUNCIL_MODEL_CACHE, default
~/.cache/lancaster-council-bot) when another clone already trained it, and
training only when neither has it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from council import DATA_DIR
from plumbing.paths import BOT_DIR, MODELS_DIR, ROOT

log = logging.getLogger(__name__)

CONFIG = BOT_DIR / "config.yml"
DOMAIN = BOT_DIR / "domain.yml"
TRAINING_DIRS = (DATA_DIR / "nlu", DATA_DIR / "rules", DATA_DIR / "stories")
FINGERPRINTED = (CONFIG, DOMAIN, *TRAINING_DIRS, BOT_DIR / "nlu", ROOT / "requirements.lock")
PREFIX = "council-"
KEEP_IN_CACHE = 5


def fingerprint() -> str:
    """sha256 over the path and content of every file that shapes the model."""
    digest = hashlib.sha256()
    for root in FINGERPRINTED:
        if not root.exists():
            continue
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.suffix in (".pyc",) or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    configured = os.environ.get("COUNCIL_MODEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "lancaster-council-bot"


def model_path(models_dir: Path = MODELS_DIR) -> Path:
    """Where the model for the current inputs lives (it may not exist yet)."""
    return models_dir / f"{PREFIX}{fingerprint()}.tar.gz"


def training_files() -> list[str]:
    return [str(path) for path in TRAINING_DIRS if path.exists()]


def train(output_dir: Path, name: str) -> Path:
    """Train from scratch into output_dir/name.tar.gz; returns its path."""
    from rasa.model_training import train as rasa_train  # heavy: import on use

    result = rasa_train(
        domain=str(DOMAIN),
        config=str(CONFIG),
        training_files=training_files(),
        output=str(output_dir),
        fixed_model_name=name,
        force_training=True,
    )
    if result.code != 0 or not result.model:
        raise RuntimeError(f"training failed (code {result.code})")
    return Path(result.model)


def _prune(directory: Path, keep: int) -> None:
    models = sorted(directory.glob(f"{PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in models[keep:]:
        stale.unlink(missing_ok=True)


def ensure_model(models_dir: Path = MODELS_DIR) -> Path:
    """The model for the current inputs, training it if nobody has yet."""
    target = model_path(models_dir)
    if target.exists():
        log.info("model is up to date: %s", target.name)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir() / target.name
    if cached.exists():
        log.info("model found in cache: %s", cached)
        shutil.copy2(cached, target)
    else:
        started = time.perf_counter()
        train(models_dir, target.name.removesuffix(".tar.gz"))
        log.info("trained %s in %.0f s", target.name, time.perf_counter() - started)
        try:
            cache_dir().mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, cached)
            _prune(cache_dir(), KEEP_IN_CACHE)
        except OSError as exc:  # a read-only cache must not fail training
            log.warning("could not cache the model: %s", exc)
    _prune(models_dir, 1)
    return target


def current_model(models_dir: Path = MODELS_DIR) -> Path | None:
    """The model for the current inputs if trained, else None."""
    target = model_path(models_dir)
    return target if target.exists() else None


EXIT_NO_MODEL = 2


def model_or_exit(given: str | None) -> Path:
    path = Path(given) if given else current_model()
    if path is None or not path.is_file():
        where = given or "models/ for the current training data"
        print(
            f"No trained model found ({where}). Train one first with `python -m bot train` (or `make train`).",
            file=sys.stderr,
        )
        sys.exit(EXIT_NO_MODEL)
    return path
