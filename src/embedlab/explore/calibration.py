"""A model's own reference bands, so a similarity score can be read.

"0.42" means nothing alone: MiniLM gives unrelated sentences about 0.0-0.2, E5 about
0.7-0.8. :func:`calibration_for` embeds :data:`BACKGROUND` (sentences from many domains,
chosen to be mutually unrelated) with the model once, and keeps the cosines of all its
pairs as a :class:`~embedlab.vectors.Calibration`. A score's percentile among them says
how unusual it is *for that model*.

That percentile alone saturates: every related pair beats almost every unrelated one, so a
pun sharing one word ("river bank" / "cash at the bank") read ~100 % like a paraphrase.
:func:`bands_for` measures, per model (cached by fingerprint), the cosines of four kinds of
reference pairs the project ships or derives, and :meth:`ReferenceBands.place` reads a score
by where it falls among them:

- ``unrelated``: the :data:`BACKGROUND` pairs (the same as :func:`calibration_for`);
- ``same_topic``: sentences of two different English documents of the demo corpus on one
  topic (cooking, space, ...), the paraphrase documents left out: same subject, other meaning;
- ``paraphrase``: :data:`~embedlab.explore.reference_pairs.PARAPHRASES` and the demo
  corpus's :data:`~embedlab.data.demo_corpus.PARAPHRASE_PAIRS`;
- ``translation`` (multilingual models only, per the catalogue):
  :data:`~embedlab.explore.reference_pairs.TRANSLATIONS`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from embedlab.bounded import BoundedCache
from embedlab.errors import InputError
from embedlab.models.base import Encoder
from embedlab.vectors.calibrate import Calibration

#: mutually unrelated sentences across domains: ~60 of them give 1,770 pairs.
BACKGROUND: tuple[str, ...] = (
    # cooking and food
    "Simmer the tomato sauce for twenty minutes before adding the basil.",
    "This bakery sells sourdough bread only on weekends.",
    "Whisk the egg whites until they form stiff peaks.",
    "The restaurant on the corner serves spicy noodle soup.",
    # sport
    "The goalkeeper saved a penalty in the final minute of the match.",
    "She finished the marathon in just under three hours.",
    "The tennis tournament was delayed by heavy rain.",
    "Our basketball team lost the championship by two points.",
    # science and nature
    "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
    "The volcano erupted and covered the island in ash.",
    "Jupiter has dozens of moons orbiting around it.",
    "Bees communicate the location of flowers by dancing.",
    "The glacier has retreated several kilometres in a century.",
    # technology
    "Restart the router if the wireless connection keeps dropping.",
    "The new phone has a larger battery and a brighter screen.",
    "This function returns a sorted copy of the input list.",
    "The database backup runs every night at two o'clock.",
    "Update your password and enable two-factor authentication.",
    # finance and business
    "The central bank raised interest rates by a quarter point.",
    "Quarterly revenue grew faster than analysts had expected.",
    "He opened a savings account for his daughter's education.",
    "The company plans to open three new warehouses next year.",
    # health
    "Drink plenty of water and rest if you have a fever.",
    "The dentist recommended flossing once a day.",
    "Regular walking lowers the risk of heart disease.",
    "The clinic offers free flu vaccinations in October.",
    # travel and places
    "The train to the airport leaves from platform four.",
    "We rented a small cabin by the lake for the summer.",
    "The museum is closed on Mondays and public holidays.",
    "Pack a warm jacket because the mountain nights are cold.",
    # home and daily life
    "The washing machine makes a loud noise during the spin cycle.",
    "Please water the plants while I am away.",
    "The cat likes to sleep on the windowsill in the afternoon.",
    "He painted the kitchen walls a pale shade of yellow.",
    "The children built a sandcastle on the beach.",
    # arts and culture
    "The orchestra performed a symphony by Beethoven.",
    "Her first novel is set in a fishing village in Norway.",
    "The gallery displays paintings from the Renaissance.",
    "The film won an award for its cinematography.",
    "He practises the violin for an hour every evening.",
    # history and politics
    "The ancient Romans built aqueducts to carry water into cities.",
    "Parliament voted on the new transport bill yesterday.",
    "The castle was besieged for six months in the fourteenth century.",
    "Voters will elect a new mayor in November.",
    # law and work
    "The contract must be signed by both parties before Friday.",
    "The judge postponed the hearing until next month.",
    "Our team meeting has moved to Thursday morning.",
    "She was promoted to head of the marketing department.",
    # transport and machines
    "The mechanic replaced the brake pads on my bicycle.",
    "Electric buses now run on most routes in the city.",
    "The cargo ship was stuck in the canal for a week.",
    # weather and places
    "Heavy snow closed the mountain pass overnight.",
    "A warm breeze blew in from the sea all afternoon.",
    # education
    "Students must submit their essays by the end of the term.",
    "The library extended its opening hours during exams.",
    "Learning a second language takes patience and practice.",
    # misc
    "The farmer harvested the wheat before the storm arrived.",
    "A lost dog was found wandering near the highway.",
    "The jeweller repaired the clasp on her silver necklace.",
    "Fireworks lit up the sky on New Year's Eve.",
)

#: calibrations by model fingerprint (a handful of models per process at most).
_CACHE: BoundedCache[str, Calibration] = BoundedCache(16)


def calibration_for(encoder: Encoder) -> Calibration:
    """The background of unrelated pairs for ``encoder``, computed once per fingerprint.

    Vectors are embedded as documents; cosines of all distinct pairs are kept sorted.
    """
    key = encoder.info.fingerprint

    def build() -> Calibration:
        vectors = encoder.embed(list(BACKGROUND), role="document")
        return Calibration.from_vectors(vectors, fingerprint=key)

    return _CACHE.get_or_build(key, build)


def clear_calibrations() -> None:
    """Forget every cached calibration and band set (tests, or after swapping weights)."""
    _CACHE.clear()
    _BANDS.clear()


#: band key -> (label, what a score typical of it means, where its pairs come from).
BAND_TEXT: dict[str, tuple[str, str, str]] = {
    "unrelated": (
        "unrelated pairs",
        "typical of unrelated texts",
        f"{len(BACKGROUND)} sentences from many domains, every pair",
    ),
    "same_topic": (
        "same-topic pairs",
        "same topic, not the same meaning",
        "sentences of two different demo-corpus documents on one topic",
    ),
    "paraphrase": (
        "paraphrases",
        "typical of paraphrases: the same meaning in other words",
        "paraphrase pairs written for embedlab and the demo corpus's paraphrase documents",
    ),
    "translation": (
        "translations",
        "typical of translations",
        "English sentences and their French, German or Spanish translations",
    ),
}
#: the bands a reading climbs, lowest first (translations are shown beside, not climbed).
LADDER: tuple[str, ...] = ("unrelated", "same_topic", "paraphrase")

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _same_topic_pairs() -> list[tuple[str, str]]:
    from embedlab.data.demo_corpus import PARAPHRASE_PAIRS, demo_documents

    docs = [d for d in demo_documents() if d.get("lang") == "en"]
    skip = {frozenset(p) for p in PARAPHRASE_PAIRS}
    sentences = {d["id"]: [s for s in _SENTENCE_END.split(d["text"].strip()) if s] for d in docs}
    out: list[tuple[str, str]] = []
    for a, b in itertools.combinations(docs, 2):
        if a["topic"] != b["topic"] or frozenset((a["id"], b["id"])) in skip:
            continue
        out += [(x, y) for x in sentences[a["id"]] for y in sentences[b["id"]] if x != y]
    return out


def reference_pairs(key: str) -> list[tuple[str, str]]:
    """The reference pairs of band ``key`` (see the module docstring), in a fixed order.

    :raises InputError: an unknown band.
    """
    from embedlab.explore.reference_pairs import PARAPHRASES, TRANSLATIONS

    if key == "unrelated":
        return list(itertools.combinations(BACKGROUND, 2))
    if key == "same_topic":
        return _same_topic_pairs()
    if key == "paraphrase":
        from embedlab.data.demo_corpus import PARAPHRASE_PAIRS, demo_documents

        text = {d["id"]: d["text"] for d in demo_documents()}
        return list(PARAPHRASES) + [(text[a], text[b]) for a, b in PARAPHRASE_PAIRS]
    if key == "translation":
        return list(TRANSLATIONS)
    raise InputError(f"Unknown reference band {key!r}: use one of {', '.join(BAND_TEXT)}.")


def _percentile(sorted_scores: np.ndarray, score: float) -> float:
    below = np.searchsorted(sorted_scores, score, side="left")
    equal = np.searchsorted(sorted_scores, score, side="right") - below
    return float(100.0 * (below + 0.5 * equal) / len(sorted_scores))


@dataclass(frozen=True)
class Band:
    """The sorted cosines of one kind of reference pair under one model."""

    key: str
    scores: np.ndarray

    @property
    def label(self) -> str:
        return BAND_TEXT[self.key][0]

    def percentile(self, score: float) -> float:
        """Share (0-100) of this band's pairs that score below ``score`` (ties count half)."""
        return _percentile(self.scores, score)

    def summary(self) -> dict[str, object]:
        """Key, label, source, pair count and the 10/25/50/75/90th percentiles."""
        label, reading, source = BAND_TEXT[self.key]
        out: dict[str, object] = {"key": self.key, "label": label, "typical": reading}
        out["source"] = source
        out["n"] = len(self.scores)
        for q in (10, 25, 50, 75, 90):
            out[f"p{q}"] = float(np.percentile(self.scores.astype(np.float64), q))
        return out


@dataclass(frozen=True)
class Placement:
    """Where one score falls among a model's bands."""

    score: float
    band: str  # the ladder band it reads as
    reading: str
    percentiles: dict[str, float]  # band key -> share of that band's pairs below the score
    headline: str = ""  # the reading in a few words ("like same-topic pairs", "between ...")


@dataclass(frozen=True)
class ReferenceBands:
    """A model's reference bands (unrelated, same topic, paraphrase[, translation])."""

    fingerprint: str
    model: str
    bands: tuple[Band, ...]

    def band(self, key: str) -> Band:
        """The band named ``key``.

        :raises InputError: the model has no such band (translations: English-only models).
        """
        for b in self.bands:
            if b.key == key:
                return b
        raise InputError(
            f"{self.model} has no {key!r} band; it has {', '.join(b.key for b in self.bands)}."
        )

    def place(self, score: float) -> Placement:
        """Read ``score``: the highest ladder band whose lower quartile it reaches, said in
        words with its percentile in every band (see :data:`LADDER`)."""
        pct = {b.key: b.percentile(score) for b in self.bands}
        ladder = [self.band(k) for k in LADDER]
        level = 0
        for i, b in enumerate(ladder):
            if score >= float(np.percentile(b.scores, 25)):
                level = i
        here = ladder[level]
        above = ladder[level + 1] if level + 1 < len(ladder) else None
        if above is None and pct[here.key] > 90:
            words = "above most paraphrases: near-identical in meaning or wording"
            headline = f"above most {here.label}"
        elif above is not None and pct[here.key] > 90:
            words = f"above most {here.label}, below most {above.label}: between the two"
            headline = f"between {here.label} and {above.label}"
        else:
            words = BAND_TEXT[here.key][1]
            headline = f"like {here.label}"
        parts = [f"{pct[b.key]:.0f}% of {b.label}" for b in self.bands]
        reading = f"{words} (higher than {', '.join(parts)})"
        return Placement(float(score), here.key, reading, pct, headline)

    def summaries(self) -> list[dict[str, object]]:
        """Every band's :meth:`Band.summary`, in order."""
        return [b.summary() for b in self.bands]


#: band sets by model fingerprint.
_BANDS: BoundedCache[str, ReferenceBands] = BoundedCache(16)


def is_multilingual(encoder: Encoder) -> bool:
    """Whether the catalogue lists the model as multilingual (a translation band is then
    measured)."""
    from embedlab.models.registry import find_spec

    spec = find_spec(encoder.info.name)
    return spec is not None and spec.languages == "multilingual"


def bands_for(encoder: Encoder) -> ReferenceBands:
    """The model's reference bands, measured once per fingerprint.

    Every text of every band is embedded once, as a document (as :func:`calibration_for`);
    the unrelated band is that calibration's own scores.
    """
    key = encoder.info.fingerprint

    def build() -> ReferenceBands:
        keys = ["same_topic", "paraphrase"] + (["translation"] if is_multilingual(encoder) else [])
        pairs = {k: reference_pairs(k) for k in keys}
        texts = sorted({t for ps in pairs.values() for p in ps for t in p})
        vectors = encoder.embed(texts, role="document").astype(np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1.0, norms)
        row = {t: i for i, t in enumerate(texts)}
        bands = [Band("unrelated", calibration_for(encoder).scores)]
        for k in keys:
            a = vectors[[row[x] for x, _ in pairs[k]]]
            b = vectors[[row[y] for _, y in pairs[k]]]
            bands.append(Band(k, np.sort(np.einsum("ij,ij->i", a, b)).astype(np.float32)))
        return ReferenceBands(key, encoder.info.name, tuple(bands))

    return _BANDS.get_or_build(key, build)
