"""Fixtures of the model tests: a fixed set of varied sentences."""

from __future__ import annotations

import pytest

#: 50 sentences of varied length, topic, punctuation and language, plus one over 256 tokens.
VARIED = [
    "I love this movie.",
    "I hate this movie.",
    "The cat sat on the mat.",
    "A dog is running through the park.",
    "Stock markets fell sharply on Tuesday after the central bank raised interest rates.",
    "How do I reset my password?",
    "Forgot password: click the link we emailed you to choose a new one.",
    "The mitochondria is the powerhouse of the cell.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Quantum computers use qubits, which can be in superpositions of states.",
    "What's the weather like in Paris tomorrow?",
    "Il pleut à Paris depuis trois jours.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "El restaurante abre a las ocho de la mañana.",
    "The quick brown fox jumps over the lazy dog.",
    "Python 3.11 added exception groups and a faster interpreter.",
    "ERROR 404: page not found!!!",
    "Call me at +1 (555) 010-9999 before 5pm.",
    "The 2024 Olympic Games were held in Paris, France.",
    "He scored twice in the second half to win the match 3-1.",
    "Preheat the oven to 200°C and bake for 25 minutes.",
    "A good night's sleep improves memory and concentration.",
    "The defendant pleaded not guilty to all charges.",
    "Scientists discovered a new species of frog in the Amazon rainforest.",
    "Our quarterly revenue grew by 12% year over year.",
    "Please find attached the invoice for March.",
    "Can vaccines cause autism? No: large studies found no link.",
    "The Eiffel Tower is 330 metres tall.",
    "Bitcoin's price swung wildly over the weekend.",
    "She played a Chopin nocturne on the old piano.",
    "Mount Everest is the highest mountain above sea level.",
    "Turn left at the second traffic light, then continue straight.",
    "The patient reported chest pain and shortness of breath.",
    "Rain",
    "ok",
    "Machine learning models can inherit biases from their training data.",
    "The library closes early on public holidays.",
    "Electric cars are becoming cheaper as battery prices fall.",
    "I can't believe it's not butter!",
    "Shakespeare wrote Hamlet around the year 1600.",
    "Water boils at 100 degrees Celsius at sea level.",
    "The committee will vote on the proposal next week.",
    "Why is the sky blue? Because of Rayleigh scattering of sunlight.",
    "The train to Berlin was delayed by forty minutes.",
    "Add two cups of flour, one egg and a pinch of salt.",
    "Wildfires forced thousands of residents to evacuate their homes.",
    "The new smartphone has a larger screen and a better camera.",
    "東京は日本の首都です。",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
    " ".join(["The long report covered budgets, staffing, safety, training and outreach."] * 30),
]


@pytest.fixture(scope="session")
def varied_sentences() -> list[str]:
    """50 varied sentences (one longer than 256 tokens)."""
    return list(VARIED)
