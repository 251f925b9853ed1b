"""Distil a sentence-transformers model into a static model with model2vec, offline.

model2vec's ``distill`` runs the teacher once per token of its vocabulary (plus the words
of an optional vocabulary file), reduces the token vectors with PCA and weights them by
their frequency rank (SIF); the result is a token table that embeds a text with one lookup
per token and a mean. Everything runs from the local model folder: the hub is never asked.

``minilm-static`` (the catalogue row) is distilled from the bundled MiniLM on first use and
cached in embedlab's home: built once under a file lock, written to a temporary folder and
renamed into place, so a killed build never leaves half a model behind.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.errors import IndexLockedError, ModelError, TrainingError
from embedlab.models.static_backend import StaticEncoder, is_static_folder, open_static
from embedlab.settings import cache_dir

Progress = Callable[[str], None]
#: what can be distilled, for error messages.
DISTILLABLE = (
    "a sentence-transformers bi-encoder: minilm, mpnet, st:<folder>, or a folder holding a "
    "sentence-transformers model (modules.json)"
)
DEFAULT_PCA_DIMS = 256
#: name of the catalogue's static model and of its cache folder under home/cache/models.
MINILM_STATIC = "minilm-static"
#: seconds a second process waits for another one distilling minilm-static.
BUILD_WAIT = 900.0
#: special tokens a vocabulary-only model keeps ([UNK], [PAD] ...).
_SPECIAL = r"\[[A-Z]+\]"
#: single ASCII characters and WordPiece continuations of one (``a``, ``##a``).
_CHARACTERS = r"(?:##)?[!-~]"


@dataclass
class DistillResult:
    """What a distillation made."""

    out: str
    base: str
    tokens: int
    dims: int
    pca_dims: int | None
    vocabulary_words: int
    vocabulary_only: bool
    seconds: float
    size_mb: float
    fingerprint: str


def base_folder(base: str) -> Path:
    """The local sentence-transformers folder of ``base`` (a catalogue name, st:, a folder).

    :raises TrainingError: the base is not a sentence-transformers bi-encoder; says which are.
    """
    from embedlab.models.registry import PREFIXES, find_spec

    spec = find_spec(base)
    if spec is not None:
        if spec.loader.endswith("st_backend:load_minilm"):
            from embedlab.models.paths import minilm_folder, verify_file

            folder = minilm_folder()
            verify_file(folder / "model.safetensors", "minilm")
            return folder
        if spec.loader.endswith("st_backend:load_mpnet"):
            from embedlab.models.st_backend import mpnet_folder

            mp = mpnet_folder()
            if mp is None:
                raise TrainingError(f"mpnet is not installed: {spec.install}.")
            return mp
        raise TrainingError(
            f"{spec.name} ({spec.description}) cannot be distilled: distillation needs {DISTILLABLE}."
        )
    prefix, sep, arg = base.partition(":")
    if sep and prefix.lower() in PREFIXES and prefix.lower() != "st":
        raise TrainingError(
            f"{base} is a {prefix} model; distillation runs the model on every token locally and "
            f"needs {DISTILLABLE}."
        )
    folder = Path(arg if sep and prefix.lower() == "st" else base).expanduser()
    if not folder.is_dir():
        raise TrainingError(f"{base} is no model folder here: distillation needs {DISTILLABLE}.")
    if is_static_folder(folder):
        raise TrainingError(
            f"{folder} is already a static model: distillation needs {DISTILLABLE}."
        )
    config = folder / "config.json"
    if config.is_file() and "ForSequenceClassification" in config.read_text(encoding="utf-8"):
        raise TrainingError(
            f"{folder} is a cross-encoder (it scores pairs): distillation needs {DISTILLABLE}."
        )
    if not (folder / "modules.json").is_file() or not config.is_file():
        raise TrainingError(
            f"{folder} is not a sentence-transformers model (no modules.json or config.json): "
            f"distillation needs {DISTILLABLE}."
        )
    return folder


def read_vocabulary(path: str | Path) -> list[str]:
    """Words from a text file, one per line (blank lines skipped, order kept, repeats dropped).

    :raises TrainingError: the file is missing, not UTF-8 text, or holds no word.
    """
    p = Path(path).expanduser()
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise TrainingError(f"Cannot read the vocabulary file {p}: {exc.strerror}.") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TrainingError(
            f"{p} is not UTF-8 text (byte {exc.start} is not): give a text file with one word a line."
        ) from exc
    if "\x00" in text:
        raise TrainingError(f"{p} holds NUL bytes: it is binary, not a text file of words.")
    words = list(dict.fromkeys(w.strip() for w in text.splitlines() if w.strip()))
    if not words:
        raise TrainingError(f"The vocabulary file {p} holds no word: give one word a line.")
    return words


def _keep_only(words: Sequence[str], characters: bool = False) -> str:
    """A model2vec ``token_remove_pattern`` that removes every base token not in ``words``
    (special tokens stay; with ``characters``, single ASCII characters and their ``##``
    continuations stay too, so any ASCII word can still be spelt out)."""
    keep = sorted({w for word in words for w in (word, word.lower())}, key=len, reverse=True)
    chars = [_CHARACTERS] if characters else []
    alternatives = "|".join([_SPECIAL, *chars, *(re.escape(w) for w in keep)])
    return rf"^(?!(?:{alternatives})$)"


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise TrainingError(
            f"Output folder {out} already exists: pick another --out, or add --overwrite to replace it."
        )


def distill_static(
    base: str,
    out: str | Path,
    *,
    pca_dims: int | None = DEFAULT_PCA_DIMS,
    vocabulary: Sequence[str] | None = None,
    vocabulary_only: bool = False,
    keep_characters: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> DistillResult:
    """Distil ``base`` into a model2vec static model saved in folder ``out``.

    :param base: ``minilm``, ``mpnet``, ``st:<folder>`` or a sentence-transformers folder.
    :param pca_dims: dimensions kept by PCA; ``None`` keeps the teacher's.
    :param vocabulary: extra words (whole words become tokens of their own).
    :param vocabulary_only: keep only ``vocabulary`` (and special tokens), not the base's
        subword tokens: a small word-level model, quick to distil.
    :param keep_characters: with ``vocabulary_only``, keep the base's single-character
        tokens too, so a word outside the vocabulary is spelt out instead of dropped.
    :param overwrite: replace an existing ``out``.
    :param progress: called with a line per stage (model2vec draws its own token bar).
    :raises TrainingError: a base that cannot be distilled, an existing ``out``, bad settings.
    """
    say = progress or (lambda _msg: None)
    folder = base_folder(base)
    target = Path(out).expanduser()
    _check_out(target, overwrite)
    if pca_dims is not None and pca_dims < 1:
        raise TrainingError(f"--pca-dims must be at least 1, got {pca_dims}.")
    words = list(vocabulary or [])
    if vocabulary is not None and not words:
        raise TrainingError("The vocabulary is empty: give at least one word, or no vocabulary.")
    if vocabulary_only and not words:
        raise TrainingError("vocabulary_only needs a vocabulary: give --vocabulary FILE.")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise TrainingError(
            f"Distillation needs model2vec and its distill extra: pip install 'embedlab[static]' ({exc})."
        ) from exc
    kwargs: dict[str, Any] = {}
    if vocabulary_only:
        kwargs["token_remove_pattern"] = _keep_only(words, keep_characters)
    say(f"distilling {base} from {folder} (pca_dims={pca_dims}, {len(words)} extra words)")
    start = time.perf_counter()
    # model2vec warns once per vocabulary word the base already has: noise, not news
    quiet = logging.getLogger("model2vec.tokenizer.tokenizer")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        model = distill(str(folder), vocabulary=words or None, pca_dims=pca_dims, **kwargs)
    except ValueError as exc:
        raise TrainingError(f"model2vec could not distil {base}: {exc}") from exc
    finally:
        quiet.setLevel(level)
    seconds = time.perf_counter() - start
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    (tmp / "distill.json").write_text(
        json.dumps({"base": base, "base_folder": str(folder), "pca_dims": pca_dims,
                    "vocabulary_words": len(words), "vocabulary_only": vocabulary_only,
                    "seconds": round(seconds, 2)}, indent=2),
        encoding="utf-8",
    )  # fmt: skip
    if target.exists():
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    enc = open_static(target)
    say(f"saved {enc.info.extra['vocabulary']} tokens x {enc.info.dims} dims to {target}")
    return DistillResult(
        out=str(target),
        base=base,
        tokens=int(enc.info.extra["vocabulary"]),
        dims=enc.info.dims,
        pca_dims=pca_dims,
        vocabulary_words=len(words),
        vocabulary_only=vocabulary_only,
        seconds=seconds,
        size_mb=sum(f.stat().st_size for f in target.iterdir()) / 1e6,
        fingerprint=enc.info.fingerprint,
    )


def _stderr(msg: str) -> None:
    sys.stderr.write(f"embedlab: {msg}\n")
    sys.stderr.flush()


def cached_static(
    name: str, build: Callable[[Path], object], progress: Progress | None = _stderr
) -> Path:
    """The static model ``home/cache/models/<name>``, made by ``build(folder)`` on first use.

    One process builds it (a file lock beside it); others wait for that build and then use
    the finished folder. ``build`` must write aside and rename into place, as
    :func:`distill_static` does, so a killed build leaves no half model behind.

    :raises ModelError: another process held the lock for longer than :data:`BUILD_WAIT`.
    """
    from embedlab.stores.lock import WriteLock

    models = cache_dir("models")
    target = models / name
    if is_static_folder(target):
        return target
    try:
        with WriteLock(models / f".{name}.lock", name, wait=BUILD_WAIT):
            if is_static_folder(target):  # another process built it while we waited
                return target
            for stale in models.glob(f".{name}.partial-*"):
                shutil.rmtree(stale, ignore_errors=True)
            if progress:
                progress(
                    f"building {name} once (distilling takes ~10 s to minutes); cached in {target}"
                )
            build(target)
    except IndexLockedError as exc:
        raise ModelError(
            f"Another process has been building {name} for over {BUILD_WAIT:g} s ({exc}). "
            f"Wait for it, or delete {target} and its lock file and try again."
        ) from exc
    return target


def minilm_static_folder(progress: Progress | None = _stderr) -> Path:
    """The cached ``minilm-static`` folder, distilled from the bundled MiniLM on first use."""

    def build(out: Path) -> None:
        distill_static("minilm", out, pca_dims=DEFAULT_PCA_DIMS, overwrite=True, progress=progress)

    return cached_static(MINILM_STATIC, build, progress)


def load_minilm_static(**_: Any) -> StaticEncoder:
    """The catalogue's ``minilm-static``: the bundled MiniLM distilled to a 256-d token table."""
    return open_static(minilm_static_folder(), name=MINILM_STATIC)
