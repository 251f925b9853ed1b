/* The calibration meter: a model's reference bands (unrelated, same topic, paraphrase,
 * translation) drawn on one cosine axis, and the pair's cosine placed among them.
 * drawBands(node, d) takes a /lab/similarity answer (d.cosine, d.bands, d.band_percentiles).
 * Each band is a row: its 10th-90th percentile range (lighter), its quartiles (darker) and
 * its median (a tick), with the share of the band's pairs the pair scores above. */
const BAND_COLOURS = { unrelated: "#9aa5b1", same_topic: "#e3a008", paraphrase: "#2f855a", translation: "#3b6fd8" };

function bandScale(d) {
  const lows = d.bands.map((b) => b.p10).concat([d.cosine]);
  const lo = Math.max(-1, Math.floor((Math.min(...lows) - 0.05) * 20) / 20);
  return { lo, hi: 1.0 };
}

function drawBands(node, d) {
  const { lo, hi } = bandScale(d);
  const at = (x) => (100 * (x - lo)) / (hi - lo);
  node.replaceChildren();
  const meter = el("div", { id: "band-meter", class: "band-meter", "data-lo": String(lo), "data-hi": String(hi) });
  for (const b of d.bands) {
    const colour = BAND_COLOURS[b.key] || "#777";
    const track = el("div", { class: "band-track" },
      el("span", { class: "band-range", style: `left:${at(b.p10)}%;width:${at(b.p90) - at(b.p10)}%;background:${colour}55` }),
      el("span", { class: "band-iqr", style: `left:${at(b.p25)}%;width:${at(b.p75) - at(b.p25)}%;background:${colour}` }),
      el("span", { class: "band-median", style: `left:${at(b.p50)}%` }),
      el("span", { class: "band-pin", style: `left:${at(d.cosine)}%` }));
    const pct = d.band_percentiles[b.key];
    const row = el("div", { class: "band-row" + (b.key === d.band ? " band-here" : ""), "data-band": b.key },
      el("div", { class: "band-name" }, `${b.label} (${fmt(b.n, 0)} pairs)`),
      track,
      el("div", { class: "band-note" }, `${fmt(b.p10, 2)}–${fmt(b.p90, 2)} · above ${fmt(pct, 0)} % of them`));
    row.title = `${b.label}: ${b.source}. 10th ${fmt(b.p10, 3)}, 25th ${fmt(b.p25, 3)}, median ${fmt(b.p50, 3)}, 75th ${fmt(b.p75, 3)}, 90th ${fmt(b.p90, 3)}`;
    meter.append(row);
  }
  const ticks = [];
  for (let t = Math.ceil(lo * 10) / 10; t <= hi + 1e-9; t += 0.1) ticks.push(Math.round(t * 10) / 10);
  const axis = el("div", { class: "band-track band-axis" },
    ...ticks.map((t) => el("span", { class: "band-tick", style: `left:${at(t)}%` }, fmt(t, 1))),
    el("span", { id: "band-marker", style: `left:${at(d.cosine)}%`, title: `this pair: ${fmt(d.cosine, 4)}` }));
  meter.append(el("div", { class: "band-axis-row" }, el("div", { class: "band-name" }, "cosine"), axis, el("div", { class: "band-note" }, `this pair: ${fmt(d.cosine, 3)}`)));
  node.append(meter);
}

(function bandStyles() {
  const css = `
.band-meter { margin: 10px 0 4px; }
.band-row, .band-axis-row { display: grid; grid-template-columns: 190px 1fr 220px; gap: 10px; align-items: center; margin: 3px 0; font-size: 13px; }
.band-row.band-here .band-name { font-weight: 700; }
.band-track { position: relative; height: 16px; background: #edf0f7; border-radius: 4px; }
.band-track > span { position: absolute; top: 0; height: 100%; }
.band-range { border-radius: 4px; }
.band-iqr { opacity: .85; }
.band-median { width: 2px; margin-left: -1px; background: #222; }
.band-pin { width: 2px; margin-left: -1px; background: #c81e1e; }
.band-axis { background: none; height: 22px; border-top: 1px solid #999; }
.band-tick { font-size: 11px; color: #555; transform: translateX(-50%); }
#band-marker { width: 0; height: 0; top: -2px !important; margin-left: -6px; border-left: 6px solid transparent; border-right: 6px solid transparent; border-top: 10px solid #c81e1e; }
.band-note { color: #444; }`;
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
})();
