"""A model's own background of unrelated pairs, so a similarity score can be read.

"0.42" means nothing alone: MiniLM gives unrelated sentences about 0.0-0.2, E5 about
0.7-0.8. :func:`calibration_for` embeds :data:`BACKGROUND` (sentences from many domains,
chosen to be mutually unrelated) with the model once, and keeps the cosines of all its
pairs as a :class:`~embedlab.vectors.Calibration`. A score's percentile among them says
how unusual it is *for that model*.
"""

from __future__ import annotations

from embedlab.bounded import BoundedCache
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
    """Forget every cached calibration (tests, or after swapping a model's weights)."""
    _CACHE.clear()
