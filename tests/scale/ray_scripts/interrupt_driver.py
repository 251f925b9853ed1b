"""Builds index ``interrupted`` from CORPUS through Ray with a slowed actor, so that the
scenarios can press Ctrl-C (SIGINT) in the middle of the run.

usage: python interrupt_driver.py ADDRESS CORPUS
"""

from __future__ import annotations

import sys
import time

import numpy as np

from embedlab.models.ray_pool import EncoderActor, RayEncoder
from embedlab.stores import create_index


class Slow(EncoderActor):
    """The real model, a fifth of a second slower per batch: a run that lasts a few seconds."""

    def embed(self, texts: list[str], role: str) -> np.ndarray:
        time.sleep(0.2)
        return super().embed(texts, role)


def main() -> None:
    address, corpus = sys.argv[1], sys.argv[2]
    enc = RayEncoder("minilm", address, batch_size=2, actors=1, actor_class=Slow).start()
    print("started", flush=True)
    create_index("interrupted", [corpus], enc)
    print("finished", flush=True)


if __name__ == "__main__":
    main()
