"""The councils' domain: who does what, when lines are open, what to say and
where to point. Plain Python over data/ (no Rasa, aiohttp or SQLAlchemy); every
service reads it, and it imports nothing else of ours."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
