/* The Ask page: streams POST /lab/ask (NDJSON events) into the answer and the pipeline view. */
"use strict";
const $ = (id) => document.getElementById(id);
let indexes = [];
let last = null; // {body, result} of the last finished run, for "what if"

/* POST body to path and call onEvent for each NDJSON line as it arrives. */
async function streamEvents(path, body, onEvent) {
  clearError();
  let resp;
  try {
    resp = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  } catch (e) {
    showError(`Cannot reach the server (${e.message}). Is 'embedlab serve' still running?`);
    throw e;
  }
  if (!resp.ok) {
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    const err = data && data.error;
    const msg = err ? `${err.type}: ${err.message}` : `HTTP ${resp.status} from ${path}`;
    showError(msg);
    throw new Error(msg);
  }
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onEvent(JSON.parse(line));
    }
  }
  if (buf.trim()) onEvent(JSON.parse(buf));
}

/* Text with [n] turned into links to source n. */
function citedText(text) {
  const frag = document.createDocumentFragment();
  const re = /\[(\d+)\]/g;
  let at = 0, m;
  while ((m = re.exec(text)) !== null) {
    frag.append(text.slice(at, m.index));
    const a = el("a", { class: "cite", href: `#source-${m[1]}`, "data-n": m[1] }, `[${m[1]}]`);
    a.addEventListener("mouseenter", () => highlight(m[1], true));
    a.addEventListener("mouseleave", () => highlight(m[1], false));
    frag.append(a);
    at = re.lastIndex;
  }
  frag.append(text.slice(at));
  return frag;
}

function highlight(n, on) {
  const li = document.getElementById(`source-${n}`);
  if (li) li.classList.toggle("hl", on);
}

function reset() {
  for (const id of ["answer", "answer-stats", "flagged", "sources", "vector-info", "search-info",
    "hits", "budget", "budget-legend", "budget-text", "excluded", "prompt", "gen-info"]) $(id).innerHTML = "";
  for (const id of ["vector", "movement"]) Plotly.purge($(id));
  $("search-depth").textContent = "";
  $("search-depth").hidden = true;
  document.querySelectorAll(".step").forEach((s) => s.classList.remove("done"));
}

function showVector(ev) {
  $("vector-info").textContent = `${ev.dims} dimensions from ${ev.model} (the index's own model) · L2 norm ${fmt(ev.norm, 4)}`;
  plot("vector", ev.figure, { height: 160, margin: { l: 40, r: 10, t: 10, b: 30 } });
  $("step-vector").classList.add("done");
}

function movement(hit, stages) {
  if (stages.length < 2) return el("span", {}, "");
  const first = hit.stages[stages[0]];
  if (!first || first.rank === null) return el("span", { class: "up" }, "new");
  const d = first.rank - hit.rank;
  if (d === 0) return el("span", {}, "=");
  return el("span", { class: d > 0 ? "up" : "down" }, (d > 0 ? "▲" : "▼") + Math.abs(d));
}

/* What the dense first stage did: which stage, and how many rows it passed to rescoring
   (the depth the store used, from settings.rescore_depth). */
function depthText(s) {
  if (s.rescore_depth === null || s.rescore_depth === undefined) return "";
  const first = [s.dims ? `${s.dims} dims` : "", s.quantize || (s.dims ? "" : "float32")].filter(Boolean).join(" ");
  const why = s.rescore_depth_asked === null ? "the stage's default" : `asked ${fmt(s.rescore_depth_asked)}`;
  return `First stage ${first}: ${fmt(s.rescore_depth)} of ${fmt(s.candidates)} rows rescored with the full float32 vectors (rescoring depth; ${why}).`;
}

/* The rescoring depth applies only to a Matryoshka or quantized first stage. */
function syncDepth() {
  $("candidates").disabled = !($("dims").value || $("quantize").value);
}

function showSearch(ev) {
  const r = ev.data;
  const stages = r.stages || [];
  $("search-depth").textContent = depthText(r.settings || {});
  $("search-depth").hidden = !$("search-depth").textContent;
  $("search-info").textContent = `${r.mode} · k ${r.k} · stages: ${stages.join(" → ")} · ` +
    Object.entries(r.timings || {}).map(([k, v]) => `${k} ${fmt(v * 1000, 1)} ms`).join(" · ");
  const t = $("hits");
  t.append(el("tr", {}, el("th", {}, "#"), el("th", {}, "chunk"), el("th", {}, "score"),
    ...stages.map((s) => el("th", {}, s)), el("th", {}, "moved")));
  for (const h of r.hits) {
    t.append(el("tr", { "data-chunk": String(h.chunk.id) }, el("td", {}, String(h.rank)),
      el("td", {}, (h.chunk.title || h.chunk.source || "").slice(0, 60)), el("td", {}, fmt(h.score)),
      ...stages.map((s) => el("td", {}, h.stages[s] && h.stages[s].rank !== null ? "#" + h.stages[s].rank : "–")),
      el("td", {}, movement(h, stages))));
  }
  $("step-search").classList.add("done");
}

function showPrompt(ev) {
  const p = ev.data;
  const b = p.budget;
  const ctxUsed = b.used, free = Math.max(0, b.available - b.used);
  const fixed = b.fixed_tokens || 0;
  const known = b.instruction_tokens + fixed + b.question_tokens + b.available + b.answer_tokens;
  const parts = [
    ["b-instr", "instruction and template", b.instruction_tokens + fixed], ["b-q", "question", b.question_tokens],
    ["b-ctx", "sources that fit", ctxUsed], ["b-free", "unused context", free],
    ["b-ans", "room for the answer", b.answer_tokens],
  ];
  if (b.window > known) parts.push(["b-rest", "rest of the window (outside the budget)", b.window - known]);
  const total = parts.reduce((s, x) => s + x[2], 0) || 1;
  const bar = $("budget");
  for (const [cls, name, n] of parts) {
    if (n <= 0) continue;
    bar.append(el("div", { class: cls, style: `width:${(100 * n / total).toFixed(2)}%`, title: `${name}: ${n} tokens` }, String(n)));
  }
  for (const [cls, name, n] of parts) {
    if (cls === "b-rest" && n <= 0) continue;
    $("budget-legend").append(el("span", {}, el("i", { class: cls }), name));
  }
  $("budget-text").textContent = `context budget ${fmt(b.available)} tokens${b.override ? " (set by you)" : ""}, ` +
    `used ${fmt(b.used)} by ${p.included.length} chunk(s); window ${fmt(b.window)}; prompt ${fmt(p.tokens)} tokens`;
  if (p.excluded.length) {
    const ul = el("ul", {});
    for (const it of p.excluded) {
      ul.append(el("li", { class: "cut" }, `#${it.rank} ${it.chunk.title || it.chunk.source} (${it.tokens} tokens) did not fit`));
    }
    $("excluded").append(el("div", { class: "cut" }, `${p.excluded.length} retrieved chunk(s) left out of the prompt:`), ul);
  } else {
    $("excluded").append(el("div", { class: "timing" }, "every retrieved chunk fit."));
  }
  $("prompt").textContent = p.messages.map((m) => `── ${m.role} ──\n${m.content}`).join("\n\n");
  const list = $("sources");
  for (const it of p.included) {
    const c = it.chunk;
    const where = c.position && Object.keys(c.position).length ? " · " + Object.entries(c.position).map(([k, v]) => `${k} ${v}`).join(", ") : "";
    list.append(el("li", { id: `source-${it.number}`, "data-chunk": String(c.id) },
      el("div", { class: "title" }, `[${it.number}] ${c.title || c.source}`),
      el("div", { class: "where" }, `${c.source}${where} · rank ${it.rank} · ${it.tokens} tokens`),
      el("div", { class: "text" }, c.text.slice(0, 400))));
  }
  $("step-prompt").classList.add("done");
}

function showDone(result, ev) {
  const ans = $("answer");
  ans.classList.remove("streaming");
  ans.innerHTML = "";
  const sentences = result.sentences || [];
  if (sentences.length) {
    for (const s of sentences) {
      const span = el("span", { class: s.flagged ? "flagged" : "", title: s.flagged ? s.reason || "unsupported" : "" });
      span.append(citedText(s.text));
      ans.append(span, " ");
    }
  } else {
    ans.append(citedText(result.answer || ""));
  }
  const flagged = sentences.filter((s) => s.flagged);
  const fl = $("flagged");
  if (flagged.length) {
    fl.append(el("h3", {}, `${flagged.length} sentence(s) not supported by their sources`));
    const ul = el("ul", {});
    for (const s of flagged) ul.append(el("li", {}, el("span", { class: "flagged" }, s.text), ` — ${s.reason || "unsupported"}`));
    fl.append(ul);
  }
  const ttft = result.time_to_first_token, tps = result.tokens_per_second;
  $("answer-stats").textContent = `${result.chat && result.chat.name} · first token ${ttft === null || ttft === undefined ? "–" : fmt(ttft * 1000, 0) + " ms"}` +
    ` · ${tps ? fmt(tps, 1) : "–"} tokens/s · ${fmt(result.completion_tokens)} answer tokens`;
  $("gen-info").textContent = Object.entries(result.timings || {}).map(([k, v]) => `${k} ${fmt(v * 1000, 1)} ms`).join(" · ") +
    ` · calibrated "unrelated" level ${fmt(result.unrelated_level, 3)}`;
  if (ev.movement) plot("movement", ev.movement, { height: 260 });
  $("step-answer").classList.add("done");
  if (result.error) showError(`The answer was cut off: ${result.error}`);
}

function body() {
  return {
    index: $("index").value, question: $("question").value, model: $("chat").value || null,
    mode: $("mode").value, k: Number($("k").value) || 5, rerank: $("rerank").value || null,
    dims: $("dims").value ? Number($("dims").value) : null, quantize: $("quantize").value || null,
    candidates: !$("candidates").disabled && $("candidates").value ? Number($("candidates").value) : null,
    context_tokens: $("context").value ? Number($("context").value) : null,
    max_tokens: Number($("max-tokens").value) || 128,
  };
}

async function run(b) {
  reset();
  let result = null;
  const ans = $("answer");
  ans.classList.add("streaming");
  $("status").textContent = "retrieving…";
  const started = performance.now();
  try {
    await streamEvents("/lab/ask", b, (ev) => {
      if (ev.type === "vector") showVector(ev);
      else if (ev.type === "stage" && ev.stage === "search") showSearch(ev);
      else if (ev.type === "stage" && ev.stage === "prompt") { showPrompt(ev); $("status").textContent = "generating…"; }
      else if (ev.type === "token") ans.append(ev.text);
      else if (ev.type === "done") { result = ev.result; showDone(result, ev); }
      else if (ev.type === "error") showError(`The answer was cut off: ${ev.message}`);
    });
  } finally {
    ans.classList.remove("streaming");
  }
  $("status").textContent = `done in ${fmt((performance.now() - started) / 1000, 1)} s`;
  return result;
}

function sourceKey(s) { return String(s.chunk_id); }

function showWhatIf(before, after, b0, b1) {
  $("whatif-panel").hidden = false;
  const sum = $("whatif-summary");
  sum.innerHTML = "";
  const changed = ["mode", "k", "rerank"].filter((k) => String(b0[k]) !== String(b1[k]))
    .map((k) => `${k} ${b0[k] || "none"} → ${b1[k] || "none"}`);
  sum.append(el("p", {}, changed.length ? `Changed: ${changed.join(", ")}.` : "Same settings: the differences come from the run itself."));
  const a = new Map((before.sources || []).map((s) => [sourceKey(s), s]));
  const z = new Map((after.sources || []).map((s) => [sourceKey(s), s]));
  const ul = el("ul", {});
  for (const [k, s] of z) {
    const prev = a.get(k);
    ul.append(el("li", { class: prev ? "" : "added" }, prev ? `[${prev.number}] → [${s.number}] ${s.title || s.source}` : `+ [${s.number}] ${s.title || s.source}`));
  }
  for (const [k, s] of a) if (!z.has(k)) ul.append(el("li", { class: "removed" }, `− [${s.number}] ${s.title || s.source}`));
  sum.append(el("div", {}, "Sources in the prompt:"), ul);
  $("wi-before").innerHTML = ""; $("wi-before").append(citedText(before.answer || ""));
  $("wi-after").innerHTML = ""; $("wi-after").append(citedText(after.answer || ""));
}

function fillDims() {
  const info = indexes.find((i) => i.name === $("index").value);
  const sel = $("dims");
  sel.innerHTML = "";
  sel.append(el("option", { value: "" }, "all"));
  syncDepth();
  if (!info) return;
  for (const d of [256, 128, 64, 32]) if (d < info.dims) sel.append(el("option", { value: String(d) }, String(d)));
}

function showServers(servers) {
  const ul = $("servers");
  ul.innerHTML = "";
  for (const s of servers) {
    const chat = s.models.filter((m) => m.kind === "chat").map((m) => m.name);
    const emb = s.models.filter((m) => m.kind === "embedding").map((m) => m.name);
    const li = el("li", { "data-url": s.url, "data-up": String(s.up) }, el("b", {}, s.protocol), ` ${s.url} `,
      el("span", { class: s.up ? "srv-up" : "srv-down" }, s.up ? "up" : "down"));
    if (s.up) li.append(el("div", { class: "timing" }, `chat: ${chat.join(", ") || "none"} · embeddings: ${emb.join(", ") || "none"}`));
    else li.append(el("div", { class: "timing" }, s.error || ""));
    ul.append(li);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  const [idx, opts] = await Promise.all([api("/lab/search/indexes"), api("/lab/ask/options")]);
  indexes = idx.indexes;
  for (const i of indexes) $("index").append(el("option", { value: i.name }, `${i.name} (${i.chunks} chunks, ${i.model})`));
  if (!indexes.length) $("status").textContent = "No index yet: run 'embedlab index create NAME PATH' or 'make run'.";
  for (const m of opts.chat) {
    const o = el("option", { value: m.name }, m.installed ? m.name : `${m.name} (not installed)`);
    if (!m.installed) o.disabled = true;
    if (m.name === opts.default) o.selected = true;
    $("chat").append(o);
  }
  for (const r of opts.rerankers) {
    $("rerank").append(el("option", { value: r }, r));
    $("wi-rerank").append(el("option", { value: r }, r));
  }
  showServers(opts.servers);
  $("index").addEventListener("change", fillDims);
  for (const id of ["dims", "quantize"]) $(id).addEventListener("change", syncDepth);
  fillDims();
  bindRun($("go"), async () => {
    const b = body();
    const result = await run(b);
    if (result) { last = { body: b, result }; $("whatif").disabled = !$("whatif-on").checked; }
  }, [$("question")]);
  $("question").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); $("go").click(); } });
  $("whatif-on").addEventListener("change", () => { $("whatif").disabled = !($("whatif-on").checked && last); });
  bindRun($("whatif"), async () => {
    if (!last) return;
    const b1 = Object.assign({}, last.body, { mode: $("wi-mode").value, k: Number($("wi-k").value) || 5, rerank: $("wi-rerank").value || null });
    const before = last.result;
    const after = await run(b1);
    if (after) showWhatIf(before, after, last.body, b1);
  });
});
