"""The one way embedlab reads a text file: UTF-8, UTF-8 with a BOM, or UTF-16/32 with a BOM.

Every reader of user text (files to index, texts to compare or map, pairs to train on,
corpora, evaluation sets) opens it through :func:`open_text`, so they all accept the same
encodings and all say the same thing about a file they cannot read: which file, which line
and which byte, and what to do. The encoding comes from the byte-order mark; a file without
one is read as UTF-8. A file with NUL bytes in its first block and no BOM is binary (or
UTF-16 without a BOM) and refused before anything is decoded.

Reading is streamed, and bounded: :func:`bounded_lines` gives the lines of an open file with
a line longer than a limit (a file with no newline at all) in pieces of at most that many
characters, so no reader ever holds a whole huge line. A bad byte is located (line and byte offset) only when decoding fails,
by :func:`text_problem`, which scans the file in blocks with an incremental decoder.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from embedlab.errors import InputError

#: bytes looked at for a BOM and for NUL bytes.
SNIFF_BYTES = 8192
_READ_BYTES = 1 << 20
#: what to tell a user whose file is in another encoding.
HINT = (
    "embedlab reads UTF-8, UTF-8 with a BOM and UTF-16 with a BOM: save the file as UTF-8 "
    "(e.g. iconv -f latin1 -t utf-8 FILE > NEW)"
)


@dataclass(frozen=True)
class TextEncoding:
    """How a file is encoded.

    :param name: the encoding :func:`open` takes (it skips the BOM).
    :param codec: the codec of the bytes after the BOM.
    :param bom: length of the BOM in bytes.
    """

    name: str
    codec: str
    bom: int


_BOMS: tuple[tuple[bytes, TextEncoding], ...] = (
    (codecs.BOM_UTF32_LE, TextEncoding("utf-32", "utf-32-le", 4)),  # before UTF-16 LE
    (codecs.BOM_UTF32_BE, TextEncoding("utf-32", "utf-32-be", 4)),
    (codecs.BOM_UTF8, TextEncoding("utf-8-sig", "utf-8", 3)),
    (codecs.BOM_UTF16_LE, TextEncoding("utf-16", "utf-16-le", 2)),
    (codecs.BOM_UTF16_BE, TextEncoding("utf-16", "utf-16-be", 2)),
)
UTF8 = TextEncoding("utf-8", "utf-8", 0)


def encoding_of(head: bytes) -> TextEncoding:
    """The encoding the first bytes of a file announce (UTF-8 when there is no BOM)."""
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc
    return UTF8


def _sniff(path: Path) -> tuple[TextEncoding, str | None]:
    """The encoding of ``path`` and, for a file that looks binary, why."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    enc = encoding_of(head)
    if enc.bom == 0 and b"\x00" in head:
        at = head.index(b"\x00")
        return enc, (
            f"binary file (a NUL byte at byte offset {at}), or UTF-16 without a BOM: "
            "give a text file"
        )
    return enc, None


def text_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as text, with the line and byte offset; ``None`` if it can.

    The whole file is decoded in blocks (never held in memory at once).
    """
    enc, binary = _sniff(Path(path))
    if binary:
        return binary
    decoder = codecs.getincrementaldecoder(enc.codec)("strict")
    newlines = 0
    fed = enc.bom  # bytes given to the decoder so far, BOM included
    with open(path, "rb") as f:
        f.seek(enc.bom)
        while True:
            block = f.read(_READ_BYTES)
            try:
                newlines += decoder.decode(block, final=not block).count("\n")
            except UnicodeDecodeError as exc:
                data = bytes(exc.object)  # the decoder's leftover bytes + this block
                good = codecs.decode(data[: exc.start], enc.codec)
                offset = fed + len(block) - len(data) + exc.start
                line = newlines + good.count("\n") + 1
                name = enc.codec.upper().replace("-LE", "").replace("-BE", "")
                return f"not {name} (a bad byte at line {line}, byte offset {offset}): {HINT}"
            fed += len(block)
            if not block:
                return None


def _where(path: Path, label: str | None) -> str:
    return str(path) if label is None else label


@contextmanager
def open_text(
    path: str | Path,
    error: type[Exception] = InputError,
    *,
    label: str | None = None,
    newline: str | None = None,
) -> Iterator[TextIO]:
    """Open a text file for reading in its own encoding (see the module docstring).

    Use it like :func:`open`: ``with open_text(path) as f: ...``.

    :param error: the exception raised for a file that is not text, as
        ``"{label}: not UTF-8 (a bad byte at line N, byte offset B): ..."``.
    :param label: how the file is named in messages (default: its path).
    :param newline: passed to :func:`open` (``""`` for csv).
    :raises OSError: the file cannot be opened (missing, a folder, no permission).
    """
    p = Path(path)
    enc, binary = _sniff(p)
    if binary:
        raise error(f"{_where(p, label)}: {binary}.")
    try:
        with open(p, encoding=enc.name, newline=newline) as f:
            yield f
    except UnicodeDecodeError:
        problem = text_problem(p)
        if problem is None:  # raised by something else than reading this file
            raise
        raise error(f"{_where(p, label)}: {problem}.") from None


#: the last whitespace character of a piece (a long line is cut just after it).
_LAST_SPACE = re.compile(r"\s(?=\S*$)")


def bounded_lines(f: TextIO, limit: int) -> Iterator[str]:
    """The lines of the open text file ``f``, each in pieces of at most ``limit`` characters.

    A line of up to ``limit`` characters comes whole (with its line end). A longer one comes
    in pieces cut just after their last whitespace, so no word is split (a piece with no
    whitespace at all is cut at ``limit``); only the last piece of a line ends with a line
    end. Joined, the pieces are the file's text.

    :raises ValueError: when ``limit`` is below 2.
    """
    if limit < 2:
        raise ValueError(f"limit must be at least 2, got {limit}")
    tail = ""
    while True:
        piece = tail + f.readline(limit - len(tail))
        tail = ""
        if not piece:
            return
        if len(piece) < limit or piece.endswith(("\n", "\r")):
            yield piece  # a whole line, the rest of one, or the file's last characters
            continue
        m = _LAST_SPACE.search(piece, 1)
        if m is not None and m.end() < len(piece):
            tail = piece[m.end() :]
            piece = piece[: m.end()]
        yield piece


def read_text(
    path: str | Path, error: type[Exception] = InputError, *, label: str | None = None
) -> str:
    """The whole text of a (small) file, read through :func:`open_text`."""
    with open_text(path, error, label=label) as f:
        return f.read()


__all__ = [
    "HINT",
    "TextEncoding",
    "bounded_lines",
    "encoding_of",
    "open_text",
    "read_text",
    "text_problem",
]
