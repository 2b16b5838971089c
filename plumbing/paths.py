"""Where the project's files are, relative to the repository root."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT_DIR = ROOT / "bot"
MODELS_DIR = ROOT / "models"
REPORTS_DIR = ROOT / "reports"
VAR_DIR = ROOT / "var"
