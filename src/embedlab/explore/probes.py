"""Ready-made probes and lessons: the sentiment trap, bias in analogies, guided exercises.

- :data:`SENTIMENT_PAIRS` and :func:`topic_vs_sentiment` show that embeddings trained on
  topical similarity put "I love this movie" near "I hate this movie" (same topic,
  opposite sentiment) and far from "I love this song" style pairs on other topics.
- :data:`BIAS_PROBES` are analogies that expose associations learnt from text
  (doctor - man + woman); :data:`BIAS_CAUTION` says how to read them.
- :data:`EXERCISES` are the guided lessons of the lab as data: the web page and the docs
  render them, the numbers come live from the models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.models.base import Encoder
from embedlab.vectors.similarity import cosine_matrix


@dataclass(frozen=True)
class SentimentPair:
    """Two texts on one topic with opposite sentiment."""

    topic: str
    positive: str
    negative: str


SENTIMENT_PAIRS: tuple[SentimentPair, ...] = (
    SentimentPair("movie", "I love this movie", "I hate this movie"),
    SentimentPair("restaurant", "The food at this restaurant was delicious", "The food at this restaurant was disgusting"),
    SentimentPair("hotel", "The hotel room was clean and comfortable", "The hotel room was dirty and uncomfortable"),
    SentimentPair("phone", "My new phone works perfectly", "My new phone is completely broken"),
    SentimentPair("weather", "What a beautiful sunny day", "What a miserable rainy day"),
    SentimentPair("service", "The customer service was friendly and helpful", "The customer service was rude and useless"),
    SentimentPair("book", "This book was a joy to read", "This book was a chore to read"),
    SentimentPair("flight", "Our flight was smooth and on time", "Our flight was bumpy and badly delayed"),
)  # fmt: skip


@dataclass(frozen=True)
class PairProbe:
    """One sentiment pair: its own cosine against its best same-sentiment other-topic match."""

    pair: SentimentPair
    same_topic: float
    best_other_topic: float

    @property
    def topic_wins(self) -> bool:
        """True when the opposite-sentiment twin is closer than any same-sentiment text."""
        return self.same_topic > self.best_other_topic


@dataclass
class TopicSentimentResult:
    """Does the model group by topic or by sentiment?

    :param same_topic_opposite_sentiment: mean cosine of each pair's two texts.
    :param same_sentiment_other_topic: mean cosine of texts sharing sentiment, not topic.
    """

    model: str
    pairs: list[PairProbe]
    same_topic_opposite_sentiment: float
    same_sentiment_other_topic: float

    @property
    def topic_dominates(self) -> bool:
        """True when topic pulls texts together more than sentiment does."""
        return self.same_topic_opposite_sentiment > self.same_sentiment_other_topic

    @property
    def share_topic_wins(self) -> float:
        """Share of pairs whose twin is closer than every same-sentiment other-topic text."""
        return float(np.mean([p.topic_wins for p in self.pairs]))

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record."""
        return {
            "model": self.model,
            "same_topic_opposite_sentiment": self.same_topic_opposite_sentiment,
            "same_sentiment_other_topic": self.same_sentiment_other_topic,
            "topic_dominates": self.topic_dominates,
            "share_topic_wins": self.share_topic_wins,
            "pairs": [
                {
                    "topic": p.pair.topic,
                    "positive": p.pair.positive,
                    "negative": p.pair.negative,
                    "same_topic": p.same_topic,
                    "best_other_topic": p.best_other_topic,
                    "topic_wins": p.topic_wins,
                }
                for p in self.pairs
            ],
        }


def topic_vs_sentiment(
    encoder: Encoder, pairs: tuple[SentimentPair, ...] = SENTIMENT_PAIRS
) -> TopicSentimentResult:
    """Compare same-topic/opposite-sentiment cosines with same-sentiment/other-topic ones."""
    n = len(pairs)
    vecs = encoder.embed([p.positive for p in pairs] + [p.negative for p in pairs])
    sims = cosine_matrix(vecs)
    pos, neg = slice(0, n), slice(n, 2 * n)
    twins = np.diag(sims[pos, neg])
    off = ~np.eye(n, dtype=bool)
    same_sentiment = np.concatenate([sims[pos, pos][off], sims[neg, neg][off]])
    probes = []
    for i, p in enumerate(pairs):
        others = [sims[i, j] for j in range(n) if j != i]
        others += [sims[n + i, n + j] for j in range(n) if j != i]
        probes.append(PairProbe(p, float(twins[i]), float(max(others))))
    return TopicSentimentResult(
        model=encoder.info.name,
        pairs=probes,
        same_topic_opposite_sentiment=float(twins.mean()),
        same_sentiment_other_topic=float(same_sentiment.mean()),
    )


@dataclass(frozen=True)
class BiasProbe:
    """An analogy ``a - b + c`` that exposes a learnt association, and its mirror."""

    a: str
    b: str
    c: str
    theme: str

    @property
    def expression(self) -> str:
        """``doctor - man + woman``."""
        return f"{self.a} - {self.b} + {self.c}"

    @property
    def mirror(self) -> BiasProbe:
        """The same probe with the two groups swapped (doctor - woman + man)."""
        return BiasProbe(self.a, self.c, self.b, self.theme)


BIAS_PROBES: tuple[BiasProbe, ...] = (
    BiasProbe("doctor", "man", "woman", "gender and occupation"),
    BiasProbe("programmer", "man", "woman", "gender and occupation"),
    BiasProbe("nurse", "woman", "man", "gender and occupation"),
    BiasProbe("engineer", "man", "woman", "gender and occupation"),
    BiasProbe("boss", "man", "woman", "gender and occupation"),
    BiasProbe("brilliant", "he", "she", "gender and adjectives"),
    BiasProbe("strong", "man", "woman", "gender and adjectives"),
)

BIAS_CAUTION = (
    "These answers reflect associations in the text the model was trained on (GloVe: "
    "Wikipedia and newswire), not facts about people. An analogy is only the nearest word "
    "to a - b + c; the inputs are excluded, which can force a skewed answer, and small "
    "changes (3CosMul, a larger vocabulary, keeping the inputs) can change it. Compare each "
    "probe with its mirror before drawing a conclusion, and never use such a model to make "
    "decisions about people without measuring and correcting its bias."
)


@dataclass(frozen=True)
class Exercise:
    """A guided lesson: a preset the lab runs with live numbers, and what to notice.

    ``kind`` names the panel that runs it; ``inputs`` holds that panel's fields:

    - ``similarity``: ``texts`` (an N x N matrix) and optionally ``pairs`` to read;
    - ``playground``: ``texts`` (each embedded and charted);
    - ``languages``: ``pairs`` of (English, translation) and ``models``;
    - ``compare``: ``text`` or ``texts``, and ``models``;
    - ``analogy``: ``a``, ``b``, ``c``, ``model``, ``method``, ``expected``.
    """

    id: str
    title: str
    kind: str
    inputs: dict[str, Any]
    notice: str
    models: tuple[str, ...] = field(default=("minilm",))


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="sentiment-trap",
        title="The sentiment trap",
        kind="similarity",
        inputs={
            "texts": [
                "I love this movie",
                "I hate this movie",
                "The cat sat on the mat",
                "This film was wonderful",
                "This film was terrible",
            ],
            "pairs": [
                ["I love this movie", "I hate this movie"],
                ["I love this movie", "The cat sat on the mat"],
            ],
        },
        notice=(
            "'I love this movie' and 'I hate this movie' score high: they share a topic "
            "and almost every word, and the model was trained to find texts about the same "
            "thing. Opposite sentiment barely pulls them apart, while the unrelated cat "
            "sentence sits near the bottom of the model's range. Embedding similarity is "
            "topical relatedness, not agreement: do not use it as a sentiment classifier."
        ),
    ),
    Exercise(
        id="negation",
        title="Negation is nearly invisible",
        kind="similarity",
        inputs={
            "texts": [
                "The food was good",
                "The food was not good",
                "The meal was tasty",
                "The train was late",
            ],
        },
        notice=(
            "Adding 'not' flips the meaning but moves the vector only a little: 'good' and "
            "'not good' usually stay closer than 'good' and a paraphrase with other words."
        ),
    ),
    Exercise(
        id="single-words",
        title="Single words: king, queen, man, woman",
        kind="playground",
        inputs={"texts": ["king", "queen", "man", "woman"]},
        notice=(
            "Look at the four bar charts: no single dimension means 'royal' or 'female'; the "
            "meaning is spread over all of them. In GloVe's similarity matrix king-queen and "
            "man-woman are the close pairs, the parallelogram an analogy relies on. MiniLM, a "
            "sentence model, keeps king-queen close but puts man-woman no closer than "
            "king-man: single words are not what it was trained on."
        ),
        models=("minilm", "glove-50d"),
    ),
    Exercise(
        id="king-queen",
        title="Analogy: king - man + woman",
        kind="analogy",
        inputs={
            "a": "king",
            "b": "man",
            "c": "woman",
            "model": "glove-50d",
            "method": "3cosadd",
            "expected": "queen",
        },  # fmt: skip
        notice=(
            "With GloVe the nearest word to king - man + woman is queen (cosine about 0.85). "
            "Keep the inputs and king itself comes first: the offset is small, and the "
            "classic result depends on leaving the inputs out. Sentence models do this less "
            "cleanly: they were not trained for vector arithmetic."
        ),
        models=("glove-50d",),
    ),
    Exercise(
        id="bias-probe",
        title="Bias: doctor - man + woman",
        kind="analogy",
        inputs={
            "a": "doctor",
            "b": "man",
            "c": "woman",
            "model": "glove-50d",
            "method": "3cosadd",
            "expected": "nurse",
        },  # fmt: skip
        notice="GloVe answers 'nurse'; the mirror (doctor - woman + man) does not answer "
        "'doctor'. " + BIAS_CAUTION,
        models=("glove-50d",),
    ),
    Exercise(
        id="cross-language",
        title="Across languages",
        kind="languages",
        inputs={
            "pairs": [
                ["The weather is beautiful today.", "Il fait très beau aujourd'hui."],
                ["Where is the train station?", "Où est la gare ?"],
                ["I would like a cup of coffee.", "Je voudrais une tasse de café."],
            ],
            "models": ["minilm", "e5-multilingual"],
        },
        notice=(
            "The English model gives a sentence and its French translation a low raw cosine "
            "(under 0.3): it mostly sees shared sub-word pieces, and a pair that shares some "
            "(café, coffee) can still read high against its unrelated pairs, so its percentile "
            "says 'more than chance', not 'same meaning'. The multilingual model puts every "
            "translation close (cosine above 0.8). Read each score against its own model's "
            "background: E5's scores sit in a narrow high band."
        ),
        models=("minilm", "e5-multilingual"),
    ),
    Exercise(
        id="model-comparison",
        title="Two models, one text",
        kind="compare",
        inputs={
            "text": "The quick brown fox jumps over the lazy dog.",
            "texts": [
                "The quick brown fox jumps over the lazy dog.",
                "A fast auburn fox leaps above a sleepy hound.",
                "Stock markets fell sharply on Monday.",
                "Shares dropped steeply at the start of the week.",
                "I love this movie",
                "I hate this movie",
            ],
            "models": ["minilm", "glove-50d"],
        },
        notice=(
            "The vectors of two models cannot be compared with each other (different "
            "spaces); their similarity matrices can. MiniLM pairs the paraphrases that share "
            "no words; GloVe, an average of word vectors, leans on shared words. The rank "
            "correlation says how far the two models order the pairs alike."
        ),
        models=("minilm", "glove-50d"),
    ),
)


def exercise(exercise_id: str) -> Exercise:
    """The exercise with that id."""
    for ex in EXERCISES:
        if ex.id == exercise_id:
            return ex
    known = ", ".join(e.id for e in EXERCISES)
    raise InputError(f"No exercise {exercise_id!r}: known exercises are {known}.")
