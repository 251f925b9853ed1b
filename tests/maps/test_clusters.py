"""Clusters in the full space name their topics; outliers are the odd ones out."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from embedlab.errors import InputError, TooFewPointsError
from embedlab.maps.clusters import ctfidf_labels, find_clusters, find_outliers

EXPECTED = {
    "sport": {"cup", "league", "football", "olympic", "world", "coach", "game"},
    "brexit": {"brexit", "eu", "european", "britain", "union", "theresa"},
    "syria": {"syria", "syrian", "aleppo", "assad", "ceasefire", "russian"},
}


def _topic_of_cluster(labels: np.ndarray, topics: list[str], cid: int) -> tuple[str, float]:
    members = [topics[i] for i in np.flatnonzero(labels == cid)]
    topic, count = Counter(members).most_common(1)[0]
    return topic, count / len(members)


@pytest.mark.parametrize("n_clusters", [3, "auto"])
def test_topics_come_out_as_clusters_named_by_their_words(topic_corpus, n_clusters) -> None:
    c = find_clusters(topic_corpus.vectors, topic_corpus.texts, n_clusters=n_clusters)
    found = {}
    for cluster in c.clusters:
        topic, purity = _topic_of_cluster(c.labels, topic_corpus.topics, cluster.id)
        if purity >= 0.8 and cluster.size >= 10:
            found[topic] = cluster
            assert set(cluster.words) & EXPECTED[topic], (topic, cluster.words)
    # k-means finds all three; HDBSCAN at least the two most compact topics
    assert len(found) >= (3 if n_clusters == 3 else 2), {t: c.words for t, c in found.items()}
    assert "brexit" in found and "brexit" in found["brexit"].words[:3]


def test_ctfidf_picks_distinctive_not_frequent_words() -> None:
    texts = [
        "the cat sat on the mat with a cat",
        "the cat purrs",
        "stocks fell and the market",
        "market prices and stocks rose",
    ]
    words = ctfidf_labels(texts, np.array([0, 0, 1, 1]), top=2)
    assert words[0][0] == "cat" and set(words[1]) == {"market", "stocks"}


def test_outliers_flag_an_off_topic_text(topic_corpus, minilm) -> None:
    odd = "Preheat the oven, whisk two eggs with sugar and fold in the flour for a sponge cake."
    vectors = np.vstack([topic_corpus.vectors, minilm.embed([odd])])
    out = find_outliers(vectors)
    assert out.indices[0] == len(vectors) - 1  # the most unusual of all
    assert len(out.indices) == round(0.02 * len(vectors))
    lof = find_outliers(vectors, method="lof", k=20)
    # LOF ranks it high but not first: cluster fringes are as "sparse" to it (why knn is default)
    assert lof.scores[-1] > np.percentile(lof.scores, 90)


def test_cluster_errors() -> None:
    x = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    with pytest.raises(TooFewPointsError, match="at least 5"):
        find_clusters(x, ["a"] * 4, n_clusters=5)
    with pytest.raises(TooFewPointsError, match="HDBSCAN needs at least 6"):
        find_clusters(x, ["a"] * 4, n_clusters="auto")
    with pytest.raises(InputError, match="'auto' or a number"):
        find_clusters(x, ["a"] * 4, n_clusters="many")


def test_labels_skip_function_words_of_other_languages() -> None:
    import numpy as np

    from embedlab.maps.clusters import ctfidf_labels

    texts = [
        "les chats sont dans la maison avec les enfants",
        "der Hund und die Katze sind im Garten",
        "los perros de la casa son muy grandes",
    ]
    labels = ctfidf_labels(texts, np.array([0, 1, 2]))
    assert set(labels[0]) == {"chats", "maison", "enfants"}
    assert set(labels[1]) == {"hund", "katze", "garten"}
    assert set(labels[2]) == {"perros", "casa", "grandes"}
