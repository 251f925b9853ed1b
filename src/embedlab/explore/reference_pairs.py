"""Reference pairs written for embedlab (their licence is the project's own): what a
paraphrase and a translation score under a model, so a new score can be read against them.

- :data:`PARAPHRASES`: two sentences that say the same thing, mostly in other words;
- :data:`TRANSLATIONS`: an English sentence and its French, German or Spanish translation.

None of them shares a subject with another pair, and none is a pun or a trick: they are the
ordinary cases a reader compares a score with. The unrelated and same-topic pairs come from
:data:`embedlab.explore.calibration.BACKGROUND_BY_TOPIC` and the demo corpus.
"""

from __future__ import annotations

#: (sentence, paraphrase): same meaning, mostly different words.
PARAPHRASES: tuple[tuple[str, str], ...] = (
    ("The meeting was postponed until next week.", "The meeting has been moved to next week."),
    (
        "He could not find his car keys this morning.",
        "This morning he was unable to locate his car keys.",
    ),
    ("The shop closes at six in the evening.", "The store shuts at 6 pm."),
    ("She is afraid of flying.", "She has a fear of planes."),
    ("The film was extremely boring.", "The movie was really dull."),
    ("Prices have risen sharply this year.", "This year costs went up steeply."),
    ("The children are playing in the garden.", "The kids are playing outside in the yard."),
    ("I did not sleep well last night.", "I had a bad night's sleep."),
    ("The train arrived twenty minutes late.", "The train was delayed by twenty minutes."),
    (
        "He quit his job to travel the world.",
        "He left his position so he could travel around the globe.",
    ),
    ("It is raining heavily outside.", "It is pouring down out there."),
    ("The doctor told him to stop smoking.", "His physician advised him to give up cigarettes."),
    (
        "The book is much better than the film.",
        "The novel is far superior to the movie adaptation.",
    ),
    ("We need to buy more milk.", "We are running out of milk and should get some."),
    ("The company laid off two hundred workers.", "The firm cut 200 jobs."),
    (
        "My phone battery died during the call.",
        "My mobile ran out of power in the middle of the call.",
    ),
    (
        "The road was closed because of the accident.",
        "Traffic was blocked on the road after a crash.",
    ),
    ("She speaks three languages fluently.", "She is fluent in three languages."),
    (
        "The restaurant was full, so we ate elsewhere.",
        "There were no free tables, so we went to another restaurant.",
    ),
    ("The price of petrol has fallen.", "Fuel has become cheaper."),
    ("He is the tallest student in the class.", "No one in his class is taller than him."),
    ("The museum is free on Sundays.", "Entry to the museum costs nothing on Sundays."),
    (
        "The team won the game in the last minute.",
        "They scored the winning goal at the very end of the match.",
    ),
    ("I forgot to send the email.", "The email slipped my mind and I never sent it."),
    ("The plant died because nobody watered it.", "Nobody watered the plant, so it withered."),
    ("The package should arrive tomorrow.", "The parcel is expected to be delivered tomorrow."),
    ("Most people were against the new law.", "The majority opposed the new legislation."),
    ("The lecture was hard to understand.", "The talk was difficult to follow."),
    ("He apologised for being late.", "He said sorry for arriving late."),
    ("The hotel room had a view of the sea.", "From our hotel room we could see the ocean."),
    ("Exercise improves your mood.", "Physical activity makes you feel happier."),
    ("The software update fixed the bug.", "The error was solved by the latest patch."),
    ("She bought a new car last month.", "Last month she purchased a new vehicle."),
    (
        "The concert was cancelled due to illness.",
        "The show was called off because the singer was sick.",
    ),
    ("Please turn off the lights when you leave.", "Switch the lights off as you go out, please."),
    ("The river flooded the village.", "The village was flooded when the river burst its banks."),
)

#: (English sentence, its translation into French, German or Spanish).
TRANSLATIONS: tuple[tuple[str, str], ...] = (
    ("The weather is beautiful today.", "Il fait très beau aujourd'hui."),
    ("Where is the train station?", "Où est la gare ?"),
    ("I would like a cup of coffee.", "Je voudrais une tasse de café."),
    ("My sister lives in a small village.", "Ma sœur habite dans un petit village."),
    ("The library opens at nine o'clock.", "La bibliothèque ouvre à neuf heures."),
    ("We are going to the beach tomorrow.", "Nous allons à la plage demain."),
    ("This soup is too salty.", "Cette soupe est trop salée."),
    ("He has been learning the piano for two years.", "Il apprend le piano depuis deux ans."),
    ("The children are sleeping.", "Die Kinder schlafen."),
    ("I have lost my wallet.", "Ich habe meine Geldbörse verloren."),
    ("The museum is closed on Mondays.", "Das Museum ist montags geschlossen."),
    ("Can you help me carry this box?", "Kannst du mir helfen, diese Kiste zu tragen?"),
    ("The doctor is not available today.", "Der Arzt ist heute nicht erreichbar."),
    ("We missed the last bus home.", "Wir haben den letzten Bus nach Hause verpasst."),
    ("The price of bread has gone up.", "Der Brotpreis ist gestiegen."),
    (
        "She writes a letter to her grandmother every week.",
        "Sie schreibt ihrer Großmutter jede Woche einen Brief.",
    ),
    ("The dog is barking at the neighbours.", "El perro le ladra a los vecinos."),
    (
        "I need to finish this report by Friday.",
        "Tengo que terminar este informe antes del viernes.",
    ),
    ("The flight to Madrid was cancelled.", "El vuelo a Madrid fue cancelado."),
    ("They opened a new bakery on our street.", "Abrieron una panadería nueva en nuestra calle."),
    ("My brother plays football every Saturday.", "Mi hermano juega al fútbol todos los sábados."),
    ("The hospital needs more nurses.", "El hospital necesita más enfermeras."),
    ("It is too cold to swim in the lake.", "Hace demasiado frío para nadar en el lago."),
    ("Turn left after the church.", "Gira a la izquierda después de la iglesia."),
)

__all__ = ["PARAPHRASES", "TRANSLATIONS"]
