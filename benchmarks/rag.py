"""Ask on the demo index with the local chat model: the time of every stage, time to first
token and tokens per second, against plain ``model.generate`` on the same prompt (baseline,
same run) so the streaming pipeline's overhead shows as a ratio.

    .venv/bin/python benchmarks/rag.py [N_QUESTIONS] [MAX_TOKENS]

Runtimes: transformers' GGUF loader (the one embedlab uses). llama-cpp-python is measured
only if it is importable (no wheel installs here: `pip download llama-cpp-python
--only-binary :all:` finds none, so it would have to compile).
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time

from embedlab.ask import ask, load_chat
from embedlab.ask.local import merge_system
from embedlab.demo import ensure_demo_index

QUESTIONS = [
    "How long do astronauts on the space station exercise each day?",
    "How far do Mars rovers drive in a day?",
    "Why does the Moon always show the same face?",
    "How does a heat pump deliver more heat than it uses?",
    "What does a list comprehension build?",
]


def raw_generate(chat, messages, max_tokens: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Baseline: ``model.generate`` on the same templated prompt, greedy, no streamer."""
    ids = chat.tokenizer(chat.render(messages), return_tensors="pt", add_special_tokens=False)
    t = time.perf_counter()
    out = chat.model.generate(**ids, max_new_tokens=max_tokens, do_sample=False,
                              pad_token_id=chat.tokenizer.eos_token_id)  # fmt: skip
    return time.perf_counter() - t, int(out.shape[1] - ids["input_ids"].shape[1])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    max_tokens = int(sys.argv[2]) if len(sys.argv) > 2 else 48
    ensure_demo_index("minilm")
    t = time.perf_counter()
    chat = load_chat("local")
    print(f"local (transformers gguf): load {time.perf_counter() - t:.1f} s")
    print(f"llama-cpp-python importable: {importlib.util.find_spec('llama_cpp') is not None}")
    ask("demo", QUESTIONS[0], chat=chat, k=3, max_tokens=4)  # warm the caches
    rows = []
    for q in QUESTIONS[:n]:
        r = ask("demo", q, chat=chat, k=3, max_tokens=max_tokens)
        assert r.reply is not None
        base_s, base_n = raw_generate(chat, merge_system(r.prompt.messages), max_tokens)
        rows.append((r, base_s, base_n))
        tm = r.timings
        print(
            f"{q[:45]:45s} prompt {r.prompt.tokens:4d} tok | embed {tm['embed'] * 1000:6.1f} ms "
            f"search {tm['search'] * 1000:5.1f} ms prompt {tm['prompt'] * 1000:5.1f} ms | "
            f"first token {tm['first_token']:.2f} s | {r.reply.completion_tokens} tok in "
            f"{tm['generate']:.1f} s = {r.reply.tokens_per_second or 0:.1f} tok/s | cite "
            f"{tm['cite']:.2f} s | baseline generate {base_n} tok in {base_s:.1f} s = "
            f"{base_n / base_s:.1f} tok/s | cited {[c.number for c in r.citations]}"
        )
    tps = statistics.median(r.reply.tokens_per_second or 0 for r, _, _ in rows if r.reply)
    whole = statistics.median(
        r.reply.completion_tokens / r.timings["generate"] for r, _, _ in rows if r.reply
    )
    base = statistics.median(bn / bs for _, bs, bn in rows)
    ttft = statistics.median(r.timings["first_token"] for r, _, _ in rows)
    print(
        f"median: first token {ttft:.2f} s, {tps:.1f} tok/s after it, {whole:.1f} tok/s "
        f"overall; baseline generate {base:.1f} tok/s; pipeline/baseline = {whole / base:.2f}x"
    )


if __name__ == "__main__":
    main()
