/* embedlab: shared by every page.
 *
 * A page is server/static/<page>.html that includes, in <head>:
 *   <link rel="stylesheet" href="/static/common.css">
 *   <script src="/static/plotly.min.js"></script>   (only if it draws figures)
 *   <script src="/static/common.js"></script>
 * and has <body data-page="<id>">. common.js draws the header and nav from PAGES, adds an
 * error box (#error) at the top of <main>, and offers:
 *   api(path, body)      -> Promise<json>; POST JSON when body is given, else GET; on an
 *                           error shows the server's message in the error box and throws.
 *   plot(div, fig)       -> draws a figure a route returned (json of a plotly Figure).
 *   fmt(x, digits)       -> readable number;  timingText(t) -> "inference 12 ms · load 0 ms".
 *   modelSelect(select, {kind, selected}) -> fills a <select> with installed models.
 * To add a page: one entry in PAGES below.
 */
"use strict";

const PAGES = [
  { id: "home", title: "Home", href: "/" },
  { id: "playground", title: "Playground", href: "/static/playground.html" },
  { id: "similarity", title: "Similarity", href: "/static/similarity.html" },
  { id: "why", title: "Why similar", href: "/static/why.html" },
  { id: "compare", title: "Compare models", href: "/static/compare.html" },
  { id: "static", title: "Static models", href: "/static/static.html" },
  { id: "words", title: "Words as vectors", href: "/static/words.html" },
  { id: "languages", title: "Languages", href: "/static/languages.html" },
  { id: "analogies", title: "Analogies", href: "/static/analogies.html" },
  { id: "exercises", title: "Guided exercises", href: "/static/exercises.html" },
  { id: "map", title: "Map", href: "/static/map.html" },
  { id: "train", title: "Train", href: "/static/train.html" },
  { id: "forces", title: "Contrastive forces", href: "/static/forces.html" },
  { id: "negatives", title: "Hard negatives", href: "/static/negatives.html" },
  { id: "measure", title: "Measure", href: "/static/measure.html" },
  { id: "matryoshka", title: "Matryoshka", href: "/static/matryoshka.html" },
  { id: "chooser", title: "Choose a model", href: "/static/chooser.html" },
  { id: "search", title: "Search", href: "/static/search.html" },
  { id: "indexes", title: "Index", href: "/static/indexes.html" },
  { id: "ask", title: "Ask", href: "/static/ask.html" },
];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function renderNav() {
  const current = document.body.dataset.page || "";
  const header = el("header", { class: "topbar" });
  header.append(el("a", { class: "brand", href: "/" }, "embed", el("b", {}, "lab")));
  const nav = el("nav", { id: "nav" });
  for (const p of PAGES) {
    const a = el("a", { href: p.href, "data-page": p.id }, p.title);
    if (p.id === current) a.classList.add("active");
    nav.append(a);
  }
  header.append(nav, el("a", { class: "apidocs", href: "/docs" }, "API"));
  document.body.prepend(header);
  const main = document.querySelector("main") || document.body;
  if (!document.getElementById("error")) {
    const box = el("div", { id: "error", class: "error-box", role: "alert", hidden: "" });
    main.prepend(box);
  }
}

function showError(message) {
  const box = document.getElementById("error");
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  const box = document.getElementById("error");
  if (box) { box.hidden = true; box.textContent = ""; }
}

async function api(path, body) {
  clearError();
  const opts = body === undefined ? { method: "GET" } : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  let resp;
  try {
    resp = await fetch(path, opts);
  } catch (e) {
    showError(`Cannot reach the server (${e.message}). Is 'embedlab serve' still running?`);
    throw e;
  }
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) {
    const err = data && data.error;
    const msg = err ? `${err.type}: ${err.message}` : `HTTP ${resp.status} from ${path}`;
    showError(msg);
    throw new Error(msg);
  }
  return data;
}

function fmt(x, digits) {
  if (x === null || x === undefined) return "–";
  if (typeof x !== "number") return String(x);
  if (digits === undefined) return Number.isInteger(x) ? x.toLocaleString() : x.toFixed(4);
  return x.toFixed(digits);
}

function timingText(t) {
  if (!t) return "";
  const parts = [`inference ${fmt(t.inference_ms, 1)} ms`, `model load ${fmt(t.load_ms, 1)} ms`];
  return parts.join(" · ");
}

/* The server's notes on texts over the model's token limit, as one line ("" when none). */
function truncationText(notes) {
  return (notes || []).map((n) => n.note).join(" ");
}

function plot(div, fig, extraLayout) {
  const node = typeof div === "string" ? document.getElementById(div) : div;
  const layout = Object.assign({}, fig.layout || {}, extraLayout || {});
  layout.autosize = true;
  return Plotly.newPlot(node, fig.data, layout, plotConfig());
}

async function modelSelect(select, opts = {}) {
  const node = typeof select === "string" ? document.getElementById(select) : select;
  const data = await api("/lab/models");
  node.innerHTML = "";
  for (const m of data.models) {
    if (opts.kind && m.kind !== opts.kind) continue;
    const o = el("option", { value: m.name }, m.installed ? m.name : `${m.name} (not installed)`);
    if (!m.installed) o.disabled = true;
    if (m.name === (opts.selected || data.default)) o.selected = true;
    node.append(o);
  }
  return data;
}

function busy(button, on) {
  if (!button) return;
  button.disabled = on;
  button.classList.toggle("busy", on);
}

/* Run fn on click of button and on Ctrl/Cmd+Enter inside any of the inputs. */
function bindRun(button, fn, inputs = []) {
  const run = async () => {
    busy(button, true);
    try { await fn(); } catch (e) { /* already shown */ } finally { busy(button, false); }
  };
  button.addEventListener("click", run);
  for (const i of inputs) {
    i.addEventListener("keydown", (ev) => {
      if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") { ev.preventDefault(); run(); }
    });
  }
  return run;
}

/* Exports. Charts: Plotly's own PNG button and an SVG one (Plotly.downloadImage) in the
 * modebar of every chart drawn with plot() or plotConfig(). Tables: every table.data (and the
 * Search costs and Ask hits tables)
 * gets a "CSV" button (the cells as shown; a cell's data-value, when set, wins). */
function plotConfig(extra) {
  const name = document.body.dataset.page || "chart";
  const svg = { name: "Download plot as SVG", icon: Plotly.Icons.disk,
    click: (gd) => Plotly.downloadImage(gd, { format: "svg", filename: name }) };
  return Object.assign({ responsive: true, displaylogo: false, modeBarButtonsToAdd: [svg],
    toImageButtonOptions: { format: "png", filename: name } }, extra || {});
}

function csvOf(table) {
  const cell = (c) => {
    const t = (c.dataset.value !== undefined ? c.dataset.value : c.textContent).trim();
    return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  return [...table.querySelectorAll("tr")].map((tr) => [...tr.children].map(cell).join(",")).join("\r\n") + "\r\n";
}

function download(filename, text, type) {
  const a = el("a", { href: URL.createObjectURL(new Blob([text], { type })), download: filename });
  document.body.append(a); a.click(); a.remove();
}

function csvButtons() {
  for (const t of document.querySelectorAll("table.data:not([data-csv]), table.costs:not([data-csv]), table.hits:not([data-csv])")) {
    t.dataset.csv = "1";
    const name = `${document.body.dataset.page || "table"}-${t.id || "table"}.csv`;
    t.before(el("button", { type: "button", class: "csv", title: "Download this table as CSV",
      onclick: () => download(name, csvOf(t), "text/csv") }, "CSV"));
  }
}

/* Prefill from the query string (exercise cards link here): ?ID=value sets the input,
 * textarea or select with that id (a select once its option exists; a box of checkboxes
 * ticks those listed, comma-separated); ?presets=[{"label", "values": {ID: value}}] adds
 * buttons that fill those values. Everything stays editable. */
function setField(id, value) {
  const node = document.getElementById(id);
  if (!node || id === "presets") return;
  const apply = () => {
    if (node.tagName === "SELECT") {
      if (![...node.options].some((o) => o.value === value)) return false;
      node.value = value;
    } else if (/^(INPUT|TEXTAREA)$/.test(node.tagName)) {
      if (node.type === "checkbox") node.checked = value === "true" || value === "1"; else node.value = value;
    } else {
      const boxes = node.querySelectorAll("input[type=checkbox]");
      if (!boxes.length) return false;
      const want = value.split(",");
      boxes.forEach((b) => { b.checked = want.includes(b.value); });
    }
    node.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  };
  if (!apply()) {  // options or checkboxes the page adds a moment later (10 s at most)
    const obs = new MutationObserver(() => { if (apply()) obs.disconnect(); });
    obs.observe(node, { childList: true, subtree: !/^(INPUT|TEXTAREA|SELECT)$/.test(node.tagName) });
    setTimeout(() => obs.disconnect(), 10000);
  }
}

function prefill() {
  const params = new URLSearchParams(location.search);
  for (const [k, v] of params) setField(k, v);
  if (!params.has("presets")) return;
  let presets = [];
  try { presets = JSON.parse(params.get("presets")); } catch (e) { return; }
  const row = el("div", { class: "row presets", id: "presets" }, el("span", { class: "muted" }, "Presets:"));
  for (const p of presets) {
    row.append(el("button", { type: "button", class: "preset",
      onclick: () => Object.entries(p.values).forEach(([k, v]) => setField(k, String(v))) }, p.label));
  }
  const main = document.querySelector("main") || document.body;
  const h1 = main.querySelector("h1");
  if (h1) h1.after(row); else main.prepend(row);
}

document.addEventListener("DOMContentLoaded", () => {
  renderNav();
  prefill();
  csvButtons();
  new MutationObserver(csvButtons).observe(document.body, { childList: true, subtree: true });
});
