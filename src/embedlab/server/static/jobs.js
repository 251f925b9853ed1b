/* embedlab: background jobs on a page (index, map, grid, training).
 *
 * Include after common.js. A route that starts a job answers {job: ID}; the job's events
 * come as NDJSON from /lab/jobs/ID/events (progress lines, then done / error / cancelled).
 *
 *   runJob(path, body, box)  -> Promise<result>: POST path, then followJob.
 *   followJob(id, box)       -> Promise<result>: draws a progress bar, the stage and a Cancel
 *                               button in box (a div); resolves with the done event's result,
 *                               rejects on an error (shown in the error box) or a cancel.
 * box.dataset.state is running | done | error | cancelled; box.dataset.events counts the
 * progress lines seen (tests read both).
 */
"use strict";

class JobCancelled extends Error {}

function jobBox(box, id) {
  const node = typeof box === "string" ? document.getElementById(box) : box;
  node.innerHTML = "";
  node.hidden = false;
  node.classList.add("jobbox");
  const bar = el("progress", { max: "1", class: "jobbar" });
  const stage = el("span", { class: "jobstage" }, "starting…");
  const cancel = el("button", { class: "jobcancel", type: "button" }, "Cancel");
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    stage.textContent = "cancelling at the next step…";
    try { await api(`/lab/jobs/${encodeURIComponent(id)}/cancel`, {}); } catch (e) { /* shown */ }
  });
  node.append(bar, " ", stage, " ", cancel);
  node.dataset.job = id;
  node.dataset.state = "running";
  node.dataset.events = "0";
  return {
    progress(ev) {
      node.dataset.events = String(Number(node.dataset.events) + 1);
      if (ev.fraction === null || ev.fraction === undefined) bar.removeAttribute("value");
      else bar.value = ev.fraction;
      stage.textContent = ev.stage + (ev.fraction > 0 && ev.fraction < 1 ? ` (${Math.round(100 * ev.fraction)}%)` : "");
    },
    end(state, text) {
      node.dataset.state = state;
      cancel.remove();
      if (state === "done") bar.value = 1;
      stage.textContent = text;
    },
  };
}

async function followJob(id, box) {
  const ui = jobBox(box, id);
  let resp;
  try {
    resp = await fetch(`/lab/jobs/${encodeURIComponent(id)}/events`);
  } catch (e) {
    ui.end("error", "lost the server");
    showError(`Cannot reach the server (${e.message}). Is 'embedlab serve' still running?`);
    throw e;
  }
  if (!resp.ok) {
    const data = await resp.json().catch(() => null);
    const msg = data && data.error ? `${data.error.type}: ${data.error.message}` : `HTTP ${resp.status}`;
    ui.end("error", "failed");
    showError(msg);
    throw new Error(msg);
  }
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      const ev = JSON.parse(line);
      if (ev.type === "progress") ui.progress(ev);
      else if (ev.type === "done") { ui.end("done", "done"); return ev.result; }
      else if (ev.type === "cancelled") { ui.end("cancelled", "cancelled"); throw new JobCancelled(ev.message); }
      else if (ev.type === "error") {
        const msg = `${ev.error.type}: ${ev.error.message}`;
        ui.end("error", "failed");
        showError(msg);
        throw new Error(msg);
      }
    }
    if (done) break;
  }
  ui.end("error", "the stream ended early");
  throw new Error("the job's stream ended before its last event");
}

async function runJob(path, body, box) {
  const start = await api(path, body);
  return followJob(start.job, box);
}
