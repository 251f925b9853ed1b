"""The ask pipeline on the demo index, answered by a real HTTP chat server (fast, exact
answers): citations map to chunks, unsupported sentences are flagged, stages are recorded,
bad input is refused with errors that say what to do."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.ask import DoneEvent, StageEvent, TokenEvent, ask, ask_stream, load_chat, prepare
from embedlab.ask.cite import split_sentences, unrelated_level
from embedlab.data import demo_path
from embedlab.errors import (
    ChatStreamError,
    ChatUnreachableError,
    ContextWindowError,
    EmptyIndexError,
    EmptyInputError,
    IndexNotFoundError,
    QuestionTooLongError,
)
from embedlab.explore.calibration import calibration_for
from embedlab.models import Encoder
from tests.ask.conftest import GROUNDED

QUESTION = "How long do astronauts on the space station exercise each day?"
STATION = "Living on the space station"


def test_grounded_answer_cites_its_chunk_and_is_not_flagged(
    demo: str, chat_server: str, minilm: Encoder
) -> None:
    chat = load_chat("ollama:grounded", base_url=chat_server)
    result = ask(demo, QUESTION, chat=chat, k=3, max_tokens=48)
    assert result.answer == GROUNDED
    assert result.sources[0].title == STATION  # the best chunk is [1]
    assert [c.number for c in result.citations] == [1]
    cited = result.citations[0]
    assert cited.source == str(demo_path()) and cited.title == STATION
    assert cited.position == result.prompt.included[0].chunk.position
    assert result.flagged == []
    # the similarity shown is the cosine of the two texts under the index's model
    v = minilm.embed([GROUNDED.replace(" [1]", ""), cited.text], role="document")
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    assert result.sentences[0].similarity[1] == pytest.approx(float(v[0] @ v[1]), abs=1e-4)
    assert result.unrelated_level == pytest.approx(
        float(np.percentile(calibration_for(minilm).scores, 95))
    )
    for key in ("embed", "search", "rerank", "prompt", "first_token", "generate", "cite", "total"):
        assert key in result.timings
    d = result.to_dict()
    assert d["citations"][0]["title"] == STATION and d["prompt_tokens"] == result.prompt.tokens
    assert d["search"]["hits"][0]["chunk"]["title"] == STATION


def test_uncited_and_unsupported_sentences_are_flagged(demo: str, chat_server: str) -> None:
    chat = load_chat("openai:uncited", base_url=chat_server + "/v1")
    result = ask(demo, QUESTION, chat=chat, k=3, max_tokens=48)
    flagged = {s.text: s.reason for s in result.flagged}
    assert flagged["Astronauts exercise two hours a day."] == "cites no source"
    reason = flagged["Paris is nice [1]."]
    assert reason is not None and reason.startswith("not supported")
    assert result.sentences[1].similarity[1] < result.unrelated_level


def test_stream_events_in_order(demo: str, chat_server: str) -> None:
    chat = load_chat("ollama:grounded", base_url=chat_server)
    events = list(ask_stream(demo, QUESTION, chat=chat, k=2, max_tokens=48))
    assert [e.stage for e in events if isinstance(e, StageEvent)] == ["search", "prompt"]
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == GROUNDED
    assert isinstance(events[-1], DoneEvent) and events[-1].to_dict()["type"] == "done"


def test_cut_off_stream_keeps_the_partial_answer(demo: str, chat_server: str) -> None:
    chat = load_chat("ollama:cut", base_url=chat_server)
    last = list(ask_stream(demo, QUESTION, chat=chat, k=2))[-1]
    assert isinstance(last, DoneEvent)
    assert last.result.error and "cut off" in last.result.error
    assert last.result.answer == "Paris is the"
    with pytest.raises(ChatStreamError, match="cut off") as err:
        ask(demo, QUESTION, chat=chat, k=2)
    assert err.value.partial == "Paris is the" and err.value.result is not None


def test_bad_input(demo: str, chat_server: str, minilm: Encoder) -> None:
    chat = load_chat("ollama:m", base_url=chat_server)
    with pytest.raises(EmptyInputError, match="question is empty"):
        ask(demo, "  ", chat=chat)
    with pytest.raises(IndexNotFoundError, match="no-such-index"):
        ask("no-such-index", QUESTION, chat=chat)
    with pytest.raises(QuestionTooLongError, match="at most 1000"):
        prepare(demo, "word " * 5000, chat=chat)
    with pytest.raises(ContextWindowError, match=r"best chunk takes \d+") as err:
        prepare(demo, QUESTION, chat=chat, context_tokens=5)
    assert "--context-tokens allows 5" in str(err.value)
    small = load_chat("ollama:m", base_url=chat_server, context_window=300)
    with pytest.raises(ContextWindowError, match="reads 300 tokens"):
        prepare(demo, QUESTION, chat=small, max_tokens=256)


def test_empty_index_is_refused(minilm: Encoder, chat_server: str) -> None:
    from embedlab.search.memory import MemoryIndex

    empty = MemoryIndex("empty", [], np.zeros((0, 384), np.float32), minilm.info.to_dict())
    with pytest.raises(EmptyIndexError, match="holds no chunks"):
        prepare(empty, QUESTION, chat=load_chat("ollama:m", base_url=chat_server))


def test_unreachable_chat_model_names_the_url(demo: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chat = load_chat("openai:x", base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(ChatUnreachableError, match=rf"127.0.0.1:{port}/v1/chat/completions"):
        ask(demo, QUESTION, chat=chat, k=1)


def test_sentence_split_keeps_markers_with_their_sentence() -> None:
    got = split_sentences(
        "Rovers drive slowly. [2] [3] They plan [1, 4] routes.\n[5] No source!\nOdd. [6]"
    )
    assert [(s.text, s.citations) for s in got] == [
        ("Rovers drive slowly. [2] [3]", [2, 3]),  # cited after the full stop
        ("They plan [1, 4] routes.", [1, 4]),
        ("[5] No source!", [5]),  # a line opening with a marker: a list item
        ("Odd. [6]", [6]),
    ]


def test_unrelated_level_is_the_models_95th_percentile(minilm: Encoder) -> None:
    scores = calibration_for(minilm).scores
    level = unrelated_level(minilm)
    assert 0.9 < float(np.mean(scores < level)) <= 0.96
