"""Readers: files and folders in, text records out (streamed, never a whole big file at once).

Each supported suffix maps to a reader in :data:`READERS`. A reader yields
:class:`Record` objects: a piece of text with its title, metadata, record number (row of a
jsonl/csv file, page of a pdf, else 0) and character offset inside that record. Plain text
is yielded in blocks of about :data:`BLOCK_CHARS` cut at paragraph breaks, so a huge file
never sits whole in memory; a line longer than that (a file with no newline) is read in
pieces of at most :data:`BLOCK_CHARS` (cut after a whitespace), yielded with
``Record.more`` set: the writer chunks such a run of pieces as one text, carrying the
unfinished last chunk of each piece into the next, so its chunks are those of the whole
text while memory stays bounded.

Files that cannot be read (binary, not UTF-8, empty, malformed, unsupported) are reported
as :class:`Skipped` with the reason instead of stopping the run.
"""

from __future__ import annotations

import csv
import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from embedlab.data.jsonl import json_lines
from embedlab.data.text import bounded_lines, open_text, text_problem
from embedlab.errors import InputError

#: plain-text files are yielded in blocks of about this many characters.
BLOCK_CHARS = 64_000
_SNIFF_BYTES = 8192
_READ_BYTES = 1 << 20

csv.field_size_limit(1 << 28)


@dataclass(frozen=True)
class ReadOptions:
    """How structured files are read.

    :param text_field: the jsonl key / csv column that holds the text.
    :param title_field: the key / column that holds a title (optional in the data).
    """

    text_field: str = "text"
    title_field: str = "title"


@dataclass
class Record:
    """A piece of a document: its text and where it came from."""

    text: str
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    record: int = 0
    offset: int = 0
    #: set on a part that could not be read (a malformed jsonl/csv line): what is wrong.
    problem: str = ""
    #: the line (from 1) of that part in its file.
    line: int = 0
    #: the text goes on in the next record (same ``record``, the next ``offset``): a piece
    #: of a text too long to hold at once.
    more: bool = False
    #: a block of a text file: ``offset`` counts characters from the file's start, and the
    #: blocks follow each other (a resume point is a character of the file).
    stream: bool = False


@dataclass(frozen=True)
class Skipped:
    """A file (or part of one: ``line``) that was not indexed, and why."""

    path: str
    reason: str
    line: int | None = None


class SkipFile(Exception):
    """Raised by a reader: this file cannot be indexed (the message is the reason)."""


# --- finding files ---------------------------------------------------------------------


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[Skipped]]:
    """All readable-looking files under ``paths`` (folders recursively, hidden ones skipped).

    :return: the files (sorted, absolute, each once) and the paths skipped with a reason.
    """
    found: dict[Path, None] = {}
    skipped: list[Skipped] = []
    for raw in paths:
        try:
            path = Path(raw).expanduser().resolve()
        except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a link loop
            skipped.append(Skipped(str(raw), "symbolic link loop"))
            continue
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        _consider(Path(root) / name, found, skipped)
        elif path.is_file() or path.is_symlink():
            _consider(path, found, skipped)
        else:
            skipped.append(Skipped(str(path), "not found"))
    return sorted(found), skipped


def _consider(path: Path, found: dict[Path, None], skipped: list[Skipped]) -> None:
    """Keep ``path`` if it is a regular file (links followed) of a supported type."""
    if path.suffix.lower() not in READERS:
        supported = ", ".join(sorted(READERS))
        skipped.append(
            Skipped(str(path), f"unsupported file type {path.suffix or '(none)'!r}: {supported}")
        )
        return
    try:
        st = path.stat()
    except OSError as exc:
        skipped.append(Skipped(str(path), _stat_problem(path, exc)))
        return
    if not stat.S_ISREG(st.st_mode):
        skipped.append(Skipped(str(path), "not a regular file"))
        return
    found[path] = None


def _stat_problem(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be opened: a broken link, a link loop, or the system's reason."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if path.is_symlink() and exc.errno == errno.ENOENT:
        return f"broken symbolic link (points at {os.readlink(path)}, which does not exist)"
    return f"cannot be read: {exc.strerror or exc}"


# --- checks before reading ---------------------------------------------------------------


def probe(path: Path) -> None:
    """Raise :class:`SkipFile` when ``path`` is empty, binary or (for text types) not text.

    Text files go through the one text check of :mod:`embedlab.data.text` (UTF-8, UTF-8
    with a BOM, UTF-16 with a BOM), decoded in blocks: never held in memory whole.
    """
    try:
        size = path.stat().st_size
        if size == 0:
            raise SkipFile("empty file")
        if path.suffix.lower() == ".pdf":
            with open(path, "rb") as f:
                if not f.read(_SNIFF_BYTES).startswith(b"%PDF"):
                    raise SkipFile("not a PDF file (no %PDF header)")
            return
        problem = text_problem(path)
        if problem is not None:
            raise SkipFile(problem)
    except OSError as exc:
        raise SkipFile(f"cannot be read: {exc.strerror or exc}") from exc


def readable(
    sources: Iterable[str | Path], files: list[Path], skipped: list[Skipped]
) -> list[Path]:
    """The ``files`` (found under ``sources``) that pass :func:`probe`; each other one is
    appended to ``skipped`` with its reason.

    :raises InputError: when none is left, naming the first few reasons.
    """
    out = []
    for f in files:
        try:
            probe(f)
        except SkipFile as exc:
            skipped.append(Skipped(str(f), str(exc)))
        else:
            out.append(f)
    if not out:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5]) or "no files found"
        raise InputError(
            f"Nothing readable to index under {', '.join(map(str, sources))} ({reasons})."
        )
    return out


def read_file(path: Path, options: ReadOptions | None = None, *, skip: int = 0) -> Iterator[Record]:
    """Records of one file, through the reader registered for its suffix.

    :param skip: the caller ignores the first ``skip`` records (it resumes after them): a
        reader that can, yields them empty without the work of reading them (PDF pages are
        not extracted); the records that follow are the same.
    :raises SkipFile: when the file turns out to be unreadable.
    """
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise SkipFile(f"unsupported file type {path.suffix!r}")
    try:
        if skip and reader is read_pdf:
            yield from read_pdf(path, options or ReadOptions(), skip=skip)
            return
        yield from reader(path, options or ReadOptions())
    except UnicodeDecodeError as exc:
        raise SkipFile("not UTF-8: convert it to UTF-8 first") from exc
    except OSError as exc:
        raise SkipFile(f"cannot be read: {exc}") from exc


# --- readers -----------------------------------------------------------------------------


def _text_blocks(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(char offset, block, more) of about BLOCK_CHARS, cut at blank lines when possible.

    A block ends after a line that brings it to ``2 * BLOCK_CHARS`` characters, or to
    ``BLOCK_CHARS`` when the line is blank. Lines are read in pieces of at most
    ``BLOCK_CHARS`` (:func:`~embedlab.data.text.bounded_lines`): a block that reaches
    ``2 * BLOCK_CHARS`` inside a line is yielded so far with ``more`` true, and goes on in
    the next one. Joined, the pieces of a block are the block as one text.
    """
    parts: list[str] = []
    size = 0  # characters held in parts
    block = 0  # characters of the block so far (held, and yielded with more)
    offset = 0
    blank = True  # the line read so far is whitespace only
    with open_text(path, SkipFile, label=path.name, newline="") as f:
        for piece in bounded_lines(f, BLOCK_CHARS):
            parts.append(piece)
            size += len(piece)
            block += len(piece)
            blank = blank and not piece.strip()
            if piece.endswith(("\n", "\r")):  # a line ends here
                if block >= 2 * BLOCK_CHARS or (block >= BLOCK_CHARS and blank):
                    yield offset, "".join(parts), False
                    offset += size
                    parts, size, block = [], 0, 0
                blank = True
            elif size >= 2 * BLOCK_CHARS:  # inside a long line: hold no more than this
                yield offset, "".join(parts), True
                offset += size
                parts, size = [], 0
    if parts:
        yield offset, "".join(parts), False


def read_txt(path: Path, options: ReadOptions) -> Iterator[Record]:
    """Plain text, streamed in blocks; the title is the file name."""
    for offset, block, more in _text_blocks(path):
        yield Record(text=block, title=path.stem, offset=offset, more=more, stream=True)


def read_markdown(path: Path, options: ReadOptions) -> Iterator[Record]:
    """Markdown, streamed like text; the title is the first ``# heading`` (else the file name)."""
    title = ""
    for offset, block, more in _text_blocks(path):
        if not title:
            title = next(
                (ln.lstrip("#").strip() for ln in block.splitlines() if ln.startswith("# ")),
                path.stem,
            )
        yield Record(text=block, title=title, offset=offset, more=more, stream=True)


class _HTMLText(HTMLParser):
    """Collects visible text and the <title> of an HTML page (stdlib parser)."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "head"})
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header",
         "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "hr"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(ln.split()) for ln in "".join(self.parts).splitlines())
        out: list[str] = []
        for ln in lines:
            if ln or (out and out[-1]):
                out.append(ln)
        return "\n".join(out).strip()


def read_html(path: Path, options: ReadOptions) -> Iterator[Record]:
    """HTML: tags stripped with the stdlib parser (scripts and styles dropped); <title> kept."""
    parser = _HTMLText()
    with open_text(path, SkipFile, label=path.name) as f:
        while block := f.read(_READ_BYTES):
            parser.feed(block)
    parser.close()
    title = " ".join("".join(parser.title_parts).split()) or path.stem
    yield Record(text=parser.text(), title=title)


def _structured(row: dict[str, Any], n: int, path: Path, options: ReadOptions) -> Record | None:
    text = row.get(options.text_field)
    if not isinstance(text, str):
        return None
    title = row.get(options.title_field)
    meta = {k: v for k, v in row.items() if k not in (options.text_field, options.title_field)}
    return Record(text=text, title=str(title) if title else "", metadata=meta, record=n)


def read_jsonl(path: Path, options: ReadOptions) -> Iterator[Record]:
    """JSON lines, one record per line; the text is ``options.text_field``, other keys metadata.

    A malformed line is yielded as a :class:`Record` with ``problem`` and ``line`` set, and
    the other lines are read (the file is skipped only when no line has a text).
    """
    good = 0
    bad: list[tuple[int, str]] = []
    lines = json_lines(
        path, SkipFile, label=path.name, objects=False, on_error=lambda n, m: bad.append((n, m))
    )
    for n, row in lines:
        yield from _problems(bad)
        rec = _structured(row, n - 1, path, options) if isinstance(row, dict) else None
        if rec is not None:
            good += 1
            yield rec
    yield from _problems(bad)
    if not good:
        raise SkipFile(
            f"no record has a text field {options.text_field!r}: name it with --text-field"
        )


def _problems(bad: list[tuple[int, str]]) -> Iterator[Record]:
    """The bad lines collected so far, as problem records (and forget them)."""
    for n, what in bad:
        yield Record(text="", record=n - 1, problem=what, line=n)
    bad.clear()


def read_csv(path: Path, options: ReadOptions) -> Iterator[Record]:
    """CSV with a header; the text is column ``options.text_field``, other columns metadata.

    A row that is not valid CSV or has another number of fields than the header is yielded
    as a :class:`Record` with ``problem`` and ``line`` (its first line) set.
    """
    with open_text(path, SkipFile, label=path.name, newline="") as f:
        reader = csv.reader(f)
        try:
            columns = next(reader, [])
        except csv.Error as exc:
            raise SkipFile(f"{path.name}:1: not a valid CSV header ({exc})") from None
        if options.text_field not in columns:
            raise SkipFile(
                f"no column {options.text_field!r} (columns: {', '.join(columns) or 'none'}): "
                "name the text column with --text-field"
            )
        n = 0
        while True:
            first = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield Record(text="", record=n, problem=f"not valid CSV ({exc})", line=first)
                n += 1
                continue
            if not row:
                continue
            if len(row) != len(columns):
                what = f"has {len(row)} fields, the header {len(columns)}"
                yield Record(text="", record=n, problem=what, line=first)
            else:
                rec = _structured(dict(zip(columns, row, strict=True)), n, path, options)
                if rec is not None:
                    yield rec
            n += 1


def read_pdf(path: Path, options: ReadOptions, *, skip: int = 0) -> Iterator[Record]:
    """PDF through pypdf, one record per page (``record`` is the page number, from 0).

    :param skip: the first ``skip`` pages are yielded empty, not extracted.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise SkipFile("encrypted PDF: decrypt it first")
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
        pages = len(reader.pages)
        for n, page in enumerate(reader.pages):
            text = "" if n < skip else page.extract_text() or ""
            yield Record(
                text=text, title=str(meta_title) or path.stem, metadata={"pages": pages}, record=n
            )
    except PyPdfError as exc:
        raise SkipFile(f"unreadable PDF: {exc}") from exc


Reader = Callable[[Path, ReadOptions], Iterator[Record]]

#: suffix -> reader.
READERS: dict[str, Reader] = {
    ".txt": read_txt,
    ".text": read_txt,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_csv,
    ".pdf": read_pdf,
}

__all__ = [
    "BLOCK_CHARS",
    "READERS",
    "ReadOptions",
    "Record",
    "SkipFile",
    "Skipped",
    "discover",
    "probe",
    "read_file",
]
