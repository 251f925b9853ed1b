"""Analogies: ``a - b + c`` (king - man + woman), with word vectors or sentence models.

Two objectives, exactly as gensim defines them (``KeyedVectors.most_similar`` and
``most_similar_cosmul``), over unit-normalised vectors:

- **3CosAdd** (Mikolov et al., 2013): rank every candidate ``x`` by
  ``cos(x, unit(a - b + c))``.
- **3CosMul** (Levy and Goldberg, 2014, eq. 4 with footnote 7): shift cosines to [0, 1]
  with ``(1 + cos) / 2`` and rank by ``cos'(x, a) * cos'(x, c) / (cos'(x, b) + 1e-6)``.

The three inputs are left out of the answers by default (as gensim does); without that,
``king`` itself usually wins. ``expected`` reports where a given answer ranks.

For a word-vector model (``.words``, ``.index``, ``.matrix``) the whole vocabulary is
searched, or its first ``restrict_vocab`` words (the most frequent ones in GloVe). For a
sentence encoder the search runs over a list of candidate texts
(:data:`DEFAULT_CANDIDATES` unless given).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from embedlab.bounded import BoundedCache
from embedlab.errors import InputError
from embedlab.models.base import Encoder, as_text_list
from embedlab.vectors.similarity import normalize, top_k

#: the epsilon gensim's ``most_similar_cosmul`` adds to the denominator.
COSMUL_EPSILON = 1e-6


def analogy_scores(
    method: str,
    unit: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    *,
    raw: np.ndarray | None = None,
    norms: np.ndarray | None = None,
) -> np.ndarray:
    """The one analogy scorer: every candidate (rows) for each ``a - b + c`` (columns).

    :param unit: unit-norm candidate rows.
    :param a: unit vectors ``(d,)`` or ``(m, d)`` (one row per analogy); so ``b`` and ``c``.
    :param raw: the candidates before normalisation and ``norms`` their L2 norms: cosines are
        then ``raw @ x / norms``, gensim's own arithmetic (what
        :func:`embedlab.evaluate.words.evaluate_analogies` needs to equal gensim exactly).
    :return: ``(n, m)`` float32 scores (3CosAdd: cosine with ``unit(a + c - b)``, summed in
        float32 and scaled in float64 as gensim does; 3CosMul: see the module docstring).
    """
    x = np.concatenate([np.atleast_2d(v) for v in (a, b, c)])
    m = x.shape[0] // 3
    base = unit if raw is None else raw
    if _method(method) is cos_add:
        mean = ((x[:m] + x[2 * m :]) - x[m : 2 * m]).astype(np.float64) / 3.0
        x = (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)
    cos = base @ x.T  # one pass over the candidates for all the vectors
    if norms is not None:
        cos = cos / norms[:, None]
    if _method(method) is cos_add:
        return cos  # type: ignore[no-any-return]
    pa, pb, pc = ((1 + cos[:, i * m : (i + 1) * m]) / 2 for i in range(3))
    return pa * pc / (pb + COSMUL_EPSILON)  # type: ignore[no-any-return]


def cos_add(unit: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """3CosAdd: cosine of each row of ``unit`` with ``unit(a - b + c)`` (inputs unit-norm)."""
    return analogy_scores("3cosadd", unit, a, b, c)[:, 0]


def cos_mul(unit: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """3CosMul: ``cos'(x,a) * cos'(x,c) / (cos'(x,b) + 1e-6)`` with ``cos' = (1 + cos) / 2``."""
    return analogy_scores("3cosmul", unit, a, b, c)[:, 0]


#: method name -> objective; error messages are built from these keys.
METHODS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "3cosadd": cos_add,
    "3cosmul": cos_mul,
}


@dataclass
class AnalogyResult:
    """The answers to ``a - b + c``, best first.

    :param candidates: ``(word or text, score)`` pairs, best first, at most ``k``.
    :param expected_rank: 1-based rank of ``expected`` among every searched candidate
        (inputs left out when they are excluded); ``None`` when it was not searched.
    :param searched: how many candidates were scored.
    :param vectors: unit vectors of the inputs and the answers (for a 2-D picture of the
        parallelogram); not part of :meth:`to_dict`.
    """

    a: str
    b: str
    c: str
    model: str
    method: str
    candidates: list[tuple[str, float]]
    excluded: list[str]
    searched: int
    expected: str | None = None
    expected_rank: int | None = None
    expected_score: float | None = None
    note: str = ""
    vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def expression(self) -> str:
        """The analogy as people write it: ``king - man + woman``."""
        return f"{self.a} - {self.b} + {self.c}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record."""
        return {
            "a": self.a,
            "b": self.b,
            "c": self.c,
            "expression": self.expression,
            "model": self.model,
            "method": self.method,
            "candidates": [{"text": t, "score": s} for t, s in self.candidates],
            "excluded": list(self.excluded),
            "searched": self.searched,
            "expected": self.expected,
            "expected_rank": self.expected_rank,
            "expected_score": self.expected_score,
            "note": self.note,
        }


def _method(name: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    key = name.lower().replace("-", "").replace("_", "")
    if key not in METHODS:
        raise InputError(f"Unknown analogy method {name!r}: use one of {', '.join(METHODS)}.")
    return METHODS[key]


@dataclass
class _Ranked:
    order: list[int]
    scores: np.ndarray
    expected_rank: int | None
    expected_score: float | None


def rank_candidates(
    scores: np.ndarray, k: int, excluded: Sequence[int] = (), expected: int | None = None
) -> _Ranked:
    """The ``k`` best indices of ``scores`` with ``excluded`` left out, and ``expected``'s rank.

    Ties go to the lower index. The rank counts candidates that score strictly higher.
    """
    s = np.asarray(scores, dtype=np.float64).copy()
    drop = [i for i in excluded if 0 <= i < s.shape[0]]
    s[drop] = -np.inf
    order = [int(i) for i in top_k(s, k) if np.isfinite(s[i])]
    rank = score = None
    if expected is not None and 0 <= expected < s.shape[0] and np.isfinite(s[expected]):
        score = float(scores[expected])
        rank = int(np.sum(s > s[expected])) + 1
    return _Ranked(order, np.asarray(scores), rank, score)


def analogy_arrays(
    words: Sequence[str],
    unit: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    *,
    k: int = 10,
    method: str = "3cosadd",
    excluded: Sequence[int] = (),
    expected: int | None = None,
) -> tuple[list[tuple[str, float]], _Ranked]:
    """The core over plain arrays: ``unit`` rows are unit-norm candidates named by ``words``.

    ``a``, ``b``, ``c`` must be unit vectors. Returns the top ``k`` ``(word, score)`` and
    the ranking details.
    """
    scores = _method(method)(unit, a, b, c)
    ranked = rank_candidates(scores, k, excluded, expected)
    return [(words[i], float(scores[i])) for i in ranked.order], ranked


# --- word vectors ----------------------------------------------------------------------

#: unit matrices by id of the matrix (the matrix is kept with it, so the id stays its own);
#: bounded, so swapped-out word models are let go.
_UNIT_CACHE: BoundedCache[int, tuple[np.ndarray, np.ndarray]] = BoundedCache(4)


def _unit_matrix(model: object) -> np.ndarray:
    """The model's row-normalised matrix: its own ``unit_matrix`` when it has one, else
    computed once per matrix object.
    """
    own = getattr(model, "unit_matrix", None)
    if isinstance(own, np.ndarray):
        return own
    matrix: np.ndarray = model.matrix  # type: ignore[attr-defined]
    hit = _UNIT_CACHE.get(id(matrix))
    if hit is not None and hit[0] is matrix:
        return hit[1]
    unit = normalize(np.asarray(matrix, dtype=np.float32))
    _UNIT_CACHE.put(id(matrix), (matrix, unit))
    return unit


def is_word_model(model: object) -> bool:
    """Whether ``model`` is a word-vector table (has ``.words``, ``.index``, ``.matrix``)."""
    return all(hasattr(model, name) for name in ("words", "index", "matrix"))


def _word_id(model: object, word: str, label: str) -> int:
    index: dict[str, int] = model.index  # type: ignore[attr-defined]
    w = word.strip()
    for key in (w, w.lower()):
        if key in index:
            return index[key]
    name = getattr(getattr(model, "info", None), "name", "this model")
    raise InputError(
        f"{label} {word!r} is not in the vocabulary of {name} ({len(index):,} words). "
        "Use a single common word, or a sentence model for phrases."
    )


def _word_analogy(
    model: Encoder,
    a: str,
    b: str,
    c: str,
    k: int,
    method: str,
    exclude_inputs: bool,
    expected: str | None,
    restrict_vocab: int | None,
    candidates: Sequence[str] | None,
) -> AnalogyResult:
    words: list[str] = model.words  # type: ignore[attr-defined]
    unit_all = _unit_matrix(model)
    ids = [_word_id(model, w, label) for w, label in ((a, "a"), (b, "b"), (c, "c"))]
    va, vb, vc = (unit_all[i] for i in ids)
    note = ""
    if candidates is not None:
        pool = sorted({_word_id(model, w, "Candidate") for w in as_text_list(candidates)})
        where = {wid: p for p, wid in enumerate(pool)}
        unit, pool_words, searched = unit_all[pool], [words[i] for i in pool], len(pool)
    else:  # the vocabulary, or its first restrict_vocab words: positions are word ids
        searched = len(words) if not restrict_vocab else min(int(restrict_vocab), len(words))
        if restrict_vocab:
            note = f"searched the first {searched:,} words of {len(words):,}"
        where = None
        unit, pool_words = unit_all[:searched], words

    def position(wid: int | None) -> int | None:
        if wid is None:
            return None
        if where is not None:
            return where.get(wid)
        return wid if wid < searched else None

    excluded = [p for p in (position(i) for i in ids) if p is not None] if exclude_inputs else []
    exp_pos = None
    if expected is not None:
        index: dict[str, int] = model.index  # type: ignore[attr-defined]
        exp_pos = position(index.get(expected.strip(), index.get(expected.strip().lower())))
        if exp_pos is None:
            note = (note + "; " if note else "") + f"{expected!r} is not among the searched words"
        elif exp_pos in excluded:
            note = (note + "; " if note else "") + f"{expected!r} is an input, which is excluded"
    top, ranked = analogy_arrays(
        pool_words, unit, va, vb, vc, k=k, method=method, excluded=excluded, expected=exp_pos
    )
    vectors = {words[i]: unit_all[i] for i in ids}
    vectors.update({w: unit[ranked.order[j]] for j, (w, _) in enumerate(top)})
    return AnalogyResult(
        a=words[ids[0]], b=words[ids[1]], c=words[ids[2]], model=model.info.name,
        method=method.lower(), candidates=top,
        excluded=[words[i] for i in ids] if exclude_inputs else [],
        searched=searched, expected=expected, expected_rank=ranked.expected_rank,
        expected_score=ranked.expected_score, note=note, vectors=vectors,
    )  # fmt: skip


# --- sentence encoders -----------------------------------------------------------------

#: what a sentence model searches when no candidates are given: common words and phrases.
DEFAULT_CANDIDATES: tuple[str, ...] = (
    # people, family and royalty
    "king", "queen", "prince", "princess", "emperor", "empress", "monarch", "throne",
    "man", "woman", "boy", "girl", "father", "mother", "son", "daughter", "brother",
    "sister", "husband", "wife", "uncle", "aunt", "nephew", "niece", "grandfather",
    "grandmother", "gentleman", "lady", "male", "female", "he", "she",
    # jobs
    "doctor", "nurse", "surgeon", "programmer", "engineer", "teacher", "professor",
    "scientist", "lawyer", "secretary", "homemaker", "pilot", "chef", "actor", "actress",
    "waiter", "waitress", "manager", "receptionist", "firefighter", "police officer",
    # places
    "France", "Paris", "Germany", "Berlin", "Italy", "Rome", "Spain", "Madrid", "Japan",
    "Tokyo", "China", "Beijing", "England", "London", "Russia", "Moscow", "Canada",
    "Ottawa", "Egypt", "Cairo", "city", "country", "capital", "village",
    # grammar: comparatives, tenses, plurals
    "good", "better", "best", "bad", "worse", "worst", "big", "bigger", "biggest",
    "small", "smaller", "smallest", "walk", "walked", "walking", "swim", "swam",
    "swimming", "run", "ran", "running", "go", "went", "mouse", "mice", "child",
    "children", "foot", "feet",
    # animals and things
    "dog", "puppy", "cat", "kitten", "horse", "foal", "cow", "calf", "car", "bicycle",
    "train", "airplane", "ship", "house", "castle", "palace", "crown", "sword", "book",
    "computer", "phone", "money", "gold", "silver", "water", "fire", "sun", "moon",
    # phrases
    "a young boy", "a young girl", "an old man", "an old woman", "the royal family",
    "a female ruler", "a male ruler", "the head of state", "a hospital worker",
    "a software developer", "the capital of France", "the capital of Italy",
    "a happy person", "a sad person", "a cold winter day", "a hot summer day",
    "breakfast", "lunch", "dinner", "coffee", "tea", "summer", "winter", "spring", "autumn",
    "happy", "sad", "angry", "calm", "fast", "slow", "hot", "cold", "light", "dark",
)  # fmt: skip


#: the default candidates' unit vectors by model fingerprint.
_CANDIDATE_CACHE: BoundedCache[str, np.ndarray] = BoundedCache(16)


def _candidate_vectors(model: Encoder, pool: list[str]) -> np.ndarray:
    """Unit vectors of ``pool``; the default candidate list is embedded once per model, so
    only texts added after it (an expected answer) are embedded on each call.
    """
    n = len(DEFAULT_CANDIDATES)
    if tuple(pool[:n]) != DEFAULT_CANDIDATES:
        return normalize(model.embed(pool, role="document"))
    hit = _CANDIDATE_CACHE.get_or_build(
        model.info.fingerprint,
        lambda: normalize(model.embed(list(DEFAULT_CANDIDATES), role="document")),
    )
    if len(pool) == n:
        return hit
    return np.vstack([hit, normalize(model.embed(pool[n:], role="document"))])


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _sentence_analogy(
    model: Encoder,
    a: str,
    b: str,
    c: str,
    k: int,
    method: str,
    exclude_inputs: bool,
    expected: str | None,
    candidates: Sequence[str] | None,
) -> AnalogyResult:
    pool = list(
        dict.fromkeys(as_text_list(candidates if candidates is not None else DEFAULT_CANDIDATES))
    )
    note = ""
    keys = [_key(t) for t in pool]
    if expected is not None and _key(expected) not in keys:
        pool.append(expected.strip())
        keys.append(_key(expected))
        note = f"{expected!r} was added to the candidates to rank it"
    inputs_unit = normalize(model.embed([a, b, c], role="document"))
    va, vb, vc = inputs_unit[0], inputs_unit[1], inputs_unit[2]
    unit = _candidate_vectors(model, pool)
    inputs = {_key(a), _key(b), _key(c)}
    excluded = [i for i, key in enumerate(keys) if key in inputs] if exclude_inputs else []
    exp_pos = keys.index(_key(expected)) if expected is not None else None
    top, ranked = analogy_arrays(
        pool, unit, va, vb, vc, k=k, method=method, excluded=excluded, expected=exp_pos
    )
    vectors = {a: va, b: vb, c: vc}
    vectors.update({t: unit[ranked.order[j]] for j, (t, _) in enumerate(top)})
    return AnalogyResult(
        a=a, b=b, c=c, model=model.info.name, method=method.lower(), candidates=top,
        excluded=[pool[i] for i in excluded], searched=len(pool), expected=expected,
        expected_rank=ranked.expected_rank, expected_score=ranked.expected_score,
        note=note, vectors=vectors,
    )  # fmt: skip


def analogy(
    model: Encoder,
    a: str,
    b: str,
    c: str,
    *,
    k: int = 10,
    method: str = "3cosadd",
    exclude_inputs: bool = True,
    expected: str | None = None,
    restrict_vocab: int | None = None,
    candidates: Sequence[str] | None = None,
) -> AnalogyResult:
    """Solve ``a - b + c`` (``king - man + woman``): the ``k`` best answers, best first.

    :param model: a word-vector model (searches its vocabulary) or a sentence encoder
        (searches ``candidates``).
    :param method: ``"3cosadd"`` or ``"3cosmul"`` (see the module docstring).
    :param exclude_inputs: leave ``a``, ``b`` and ``c`` out of the answers (gensim does).
    :param expected: an answer whose rank to report (``queen``).
    :param restrict_vocab: word vectors only: search just the first N words.
    :param candidates: texts to search; for word vectors, words to search instead of the
        vocabulary. Sentence encoders default to :data:`DEFAULT_CANDIDATES`.
    :raises InputError: an empty input, a word not in the vocabulary, an unknown method.
    """
    as_text_list([a, b, c])
    _method(method)
    if expected is not None and not expected.strip():
        expected = None
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}.")
    if is_word_model(model):
        return _word_analogy(
            model, a, b, c, k, method, exclude_inputs, expected, restrict_vocab, candidates
        )
    return _sentence_analogy(model, a, b, c, k, method, exclude_inputs, expected, candidates)
