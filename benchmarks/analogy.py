"""Analogies: embedlab's 3CosAdd/3CosMul against gensim's on GloVe 6B 50d, same questions.

Runs N questions from gensim's questions-words.txt (spread over every section; b - a + c
should give d) through ``embedlab.explore.analogy`` and through gensim's
``KeyedVectors.most_similar`` / ``most_similar_cosmul`` over the same vectors, and prints
the top-1 agreement, each one's accuracy, and the time per query with the ratio.

    .venv/bin/python benchmarks/analogy.py [N] [RESTRICT]

N defaults to 400 questions; RESTRICT (default 400000: the whole vocabulary) searches only
the first RESTRICT words.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from gensim.models import KeyedVectors

from embedlab.data import gensim_test_file
from embedlab.explore.analogy import analogy
from embedlab.models import load_model


def questions(index: dict[str, int], n: int) -> list[tuple[str, str, str, str]]:
    """Up to ``n`` lower-cased questions whose four words GloVe knows, spread over sections."""
    sections: list[list[tuple[str, str, str, str]]] = []
    with open(gensim_test_file("questions-words.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith(":"):
                sections.append([])
                continue
            words = line.lower().split()
            if len(words) == 4 and all(w in index for w in words):
                sections[-1].append((words[0], words[1], words[2], words[3]))
    rng = np.random.default_rng(0)
    per = max(1, n // len(sections))
    out = []
    for sec in sections:
        take = rng.choice(len(sec), size=min(per, len(sec)), replace=False)
        out.extend(sec[i] for i in sorted(take))
    return out[:n]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    restrict = int(sys.argv[2]) if len(sys.argv) > 2 else 400_000
    glove = load_model("glove-50d")
    words, matrix = glove.words[:restrict], glove.matrix[:restrict]  # type: ignore[attr-defined]
    kv = KeyedVectors(vector_size=matrix.shape[1])
    kv.add_vectors(words, matrix)
    kv.fill_norms()
    qs = questions(glove.index, n)  # type: ignore[attr-defined]
    print(f"GloVe 6B 50d, {len(words):,} words searched, {len(qs)} questions")
    analogy(glove, "king", "man", "woman", restrict_vocab=restrict)  # warm the unit matrix
    for method, ref in (("3cosadd", kv.most_similar), ("3cosmul", kv.most_similar_cosmul)):
        ours_t = theirs_t = 0.0
        agree = ours_ok = theirs_ok = 0
        max_diff = 0.0
        for a, b, c, d in qs:
            t0 = time.perf_counter()
            ours = analogy(glove, b, a, c, k=1, method=method, restrict_vocab=restrict)
            t1 = time.perf_counter()
            theirs = ref(positive=[b, c], negative=[a], topn=1)
            t2 = time.perf_counter()
            ours_t += t1 - t0
            theirs_t += t2 - t1
            agree += ours.candidates[0][0] == theirs[0][0]
            max_diff = max(max_diff, abs(ours.candidates[0][1] - theirs[0][1]))
            ours_ok += ours.candidates[0][0] == d
            theirs_ok += theirs[0][0] == d
        q = len(qs)
        print(
            f"{method}: top-1 agreement {agree}/{q}, max score difference {max_diff:.1e}; "
            f"accuracy embedlab {ours_ok / q:.3f}, gensim {theirs_ok / q:.3f}; "
            f"ms/query embedlab {1000 * ours_t / q:.1f}, gensim {1000 * theirs_t / q:.1f} "
            f"(embedlab/gensim time {ours_t / theirs_t:.2f}x)"
        )


if __name__ == "__main__":
    main()
