"""Settings: one table of (name, default, help), read from ``EMBEDLAB_*`` variables.

The CLI, the web app and the docs all read this table, so a setting is documented once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable is ``EMBEDLAB_<NAME>``."""

    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return f"EMBEDLAB_{self.name.upper()}"

    def value(self) -> str:
        return os.environ.get(self.env, self.default)


SETTINGS: tuple[Setting, ...] = (
    Setting("home", "~/.embedlab", "Folder for indexes, caches, projections and trained models."),
    Setting(
        "downloads",
        "~/.cache/embedlab",
        "Cache of downloaded data packages (kept apart from home).",
    ),
    Setting("model", "minilm", "Model used when none is named."),
    Setting(
        "store",
        "embedded",
        "Where new indexes live: 'embedded' (a folder under home) or milvus://HOST:PORT.",
    ),
    Setting("host", "127.0.0.1", "Address the web lab binds to."),
    Setting("port", "8765", "Port the web lab listens on."),
    Setting("max_batch", "256", "Most texts one HTTP embedding request may carry."),
    Setting("max_body_bytes", "8388608", "Largest HTTP request body, in bytes (413 beyond)."),
    Setting("max_text_chars", "100000", "Longest text (any string) in an HTTP request (413)."),
    Setting("max_map_texts", "5000", "Most pasted texts one map request may carry (413)."),
    Setting("max_long_jobs", "2", "Long web jobs (map, grid, training, indexing) at once (429)."),
    Setting("api_key", "", "Key web clients must send (Authorization: Bearer); off if empty."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The current value of a setting (environment first, then the default)."""
    return _BY_NAME[name].value()


def home() -> Path:
    """embedlab's data folder (created on first use)."""
    path = Path(get("home")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(*parts: str) -> Path:
    """A sub-folder of ``home()/cache``, created on first use."""
    path = home().joinpath("cache", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def downloads_dir() -> Path:
    """Where ``make data`` caches downloaded data packages (not moved by ``EMBEDLAB_HOME``)."""
    path = Path(get("downloads")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
