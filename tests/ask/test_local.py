"""The bundled local chat model (SmolLM2-135M GGUF, one load per session): the prompt holds
exactly the chunks that fit the budget, counted here with the tokenizer; a demo question
whose answer is in one document gets an answer that cites it."""

from __future__ import annotations

from typing import Any

from embedlab.ask import ask, load_chat, prepare
from embedlab.ask.local import smollm2_path
from embedlab.models.paths import sha256_file

QUESTION = "How long do astronauts on the space station exercise each day?"
STATION = "Living on the space station"


def test_local_model_is_the_pinned_file_loaded_once(chat_local: Any) -> None:
    assert sha256_file(smollm2_path()) == (
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    )
    assert chat_local.info.extra["weights"] == sha256_file(smollm2_path())
    assert load_chat("local") is chat_local and load_chat("SmolLM2") is chat_local  # one copy


def test_prompt_holds_exactly_the_chunks_that_fit(demo: str, chat_local: Any) -> None:
    tok = chat_local.tokenizer
    budget = 200
    prep = prepare(demo, QUESTION, chat=chat_local, k=8, context_tokens=budget, max_tokens=48)
    hits = [h.chunk for h in prep.search.hits]
    assert len(hits) == 8
    # the greedy prefix, counted here with the tokenizer
    used, fit = 0, []
    for n, chunk in enumerate(hits, start=1):
        block = f"[{n}] {chunk.title}\n{chunk.text}\n\n"
        cost = len(tok(block, add_special_tokens=False)["input_ids"])
        if used + cost > budget:
            break
        used += cost
        fit.append(chunk.id)
    assert 0 < len(fit) < 8  # the budget really cuts
    assert [c.chunk.id for c in prep.prompt.included] == fit
    assert [c.chunk.id for c in prep.prompt.excluded] == [c.id for c in hits[len(fit) :]]
    assert prep.prompt.budget.used == used and prep.prompt.budget.available == budget
    user = prep.prompt.messages[-1]["content"]
    for item in prep.prompt.included:
        assert f"[{item.number}] {item.chunk.title}\n{item.chunk.text}" in user
    for item in prep.prompt.excluded:
        assert item.chunk.text not in user
    # the prompt's token count is the templated conversation the model reads
    merged = [{"role": "user", "content": user + "\n\n" + prep.prompt.messages[0]["content"]}]
    ids = tok.apply_chat_template(merged, tokenize=True, add_generation_prompt=True)
    ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
    assert prep.prompt.tokens == len(ids)
    # without an override the budget is the window minus the answer and the rest
    whole = prepare(demo, QUESTION, chat=chat_local, k=8, max_tokens=48)
    b = whole.prompt.budget
    assert b.available == 8192 - 48 - b.fixed_tokens and len(whole.prompt.included) == 8


def test_demo_question_is_answered_citing_its_document(demo: str, chat_local: Any) -> None:
    result = ask(demo, QUESTION, chat=chat_local, k=3, max_tokens=48)
    assert result.sources[0].title == STATION
    assert result.answer
    assert STATION in [c.title for c in result.citations], result.answer
    assert result.reply is not None and result.reply.completion_tokens > 0
    assert result.timings["first_token"] > 0 and result.reply.tokens_per_second


def test_an_abandoned_stream_stops_generating(chat_local: Any) -> None:
    """A reader that goes away (a closed web request) frees the model at the next token,
    not after the whole answer (200 tokens here: a minute or more on these cores)."""
    stream = chat_local.stream(
        [{"role": "user", "content": "Count to one hundred."}], max_tokens=200
    )
    first = next(stream)
    assert first
    stream.close()  # GeneratorExit inside: the generation thread is told to stop and joined
    assert 0 < chat_local.last_generated < 20  # stopped, not run to 200 tokens
