"""Time to map 20,000 and 100,000 points with each method, against the libraries called directly.

Run: ``.venv/bin/python benchmarks/map.py [--sizes 20000 100000] [--methods pca umap tsne]
[--figure]``

``--figure`` also times the map in headless Chromium at each size: the figure JSON drawn with
``Plotly.newPlot`` (the old path), and the Map page itself against a real server (compact
points as base64 typed arrays: bytes, time to first paint, hover), with the figure JSON
fetched and drawn in the same page as the baseline.

Data: synthetic clustered vectors shaped like sentence embeddings (384 dims, 50 Gaussian
topics, unit-normalised). For every size and method it times

- ``project``: embedlab's path (``embedlab.maps.projection.project``: PCA to 50 dims first
  for t-SNE/UMAP above 2,000 points, fixed seed);
- ``direct``: the same steps written by hand with scikit-learn / umap-learn (the baseline the
  project must not be slower than);
- at 20,000 points, ``naive``: umap-learn / t-SNE on the raw 384 dims, as people often call it;

then a full ``build_map`` (projection + k-means clusters + outliers + trust) twice: the second
reads everything from the cache. t-SNE above its limit (50,000) is refused, and the message
offering a sample is printed. Timings are wall-clock on a shared machine: treat them as rough.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")


def clustered(n: int, dims: int = 384, topics: int = 50, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors around ``topics`` random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, dims)).astype(np.float32)
    which = rng.integers(0, topics, size=n)
    x = centres[which] + 0.9 * rng.normal(size=(n, dims)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def fake_texts(n: int, words: int = 20, seed: int = 0) -> list[str]:
    """``n`` texts of ``words`` dictionary words (hover text and c-TF-IDF labels of real size)."""
    from pathlib import Path

    dictionary = Path("/usr/share/dict/american-english")
    vocab = (
        dictionary.read_text().split() if dictionary.exists() else [f"w{i}" for i in range(5000)]
    )
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(vocab), size=(n, words))
    return [" ".join(vocab[j] for j in row) for row in picks]


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Seconds ``fn(*args, **kwargs)`` took, and its result."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


#: fast methods are timed best-of-3 (one run is mostly noise on a shared machine).
REPEATS = {"pca": 3, "umap": 1, "tsne": 1}


def best_of(repeats: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """The fastest of ``repeats`` timed calls, with its result."""
    runs = [timed(fn, *args, **kwargs) for _ in range(repeats)]
    return min(runs, key=lambda r: r[0])


def direct(x: np.ndarray, method: str, pre: bool) -> np.ndarray:
    """The same projection written by hand against the libraries."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if method == "pca":
        return PCA(n_components=2, random_state=0).fit_transform(x)
    if pre:
        x = PCA(n_components=50, random_state=0).fit_transform(x).astype(np.float32)
    if method == "tsne":
        return TSNE(n_components=2, perplexity=30.0, init="pca", random_state=0).fit_transform(x)
    import umap

    return umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", random_state=0).fit_transform(x)


def figure_timing(m: Any) -> str:
    """Build the map's WebGL figure, serialise it, and draw it in Chromium; time each step."""
    import json
    from pathlib import Path

    from embedlab.figures.maps import map_figure

    t_fig, fig = timed(map_figure, m, "cluster")
    t_json, payload = timed(fig.to_json)
    mb = len(payload) / 1e6
    out = f"figure {t_fig:.1f} s, to_json {t_json:.1f} s, {mb:.1f} MB"
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return out
    import plotly
    from playwright.sync_api import sync_playwright

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "fig.json").write_text(payload)
        Path(tmp, "page.html").write_text(
            f"<html><body><div id=m style='width:1200px;height:800px'></div>"
            f"<script src='file://{plotly_js}'></script></body></html>"
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(f"file://{tmp}/page.html")
            fig_json = json.loads(payload)
            ms = page.evaluate(
                """async (f) => { const t = performance.now();
                await Plotly.newPlot('m', f.data, f.layout); return performance.now() - t; }""",
                fig_json,
            )
            hover_ms = page.evaluate(
                """() => { const gd = document.getElementById('m'); const t = performance.now();
                for (let i = 0; i < 20; i++) Plotly.Fx.hover(gd, {xpx: 300 + 20 * i, ypx: 300});
                return (performance.now() - t) / 20; }"""
            )
            browser.close()
    return out + f", Chromium newPlot {ms / 1000:.1f} s, hover {hover_ms:.0f} ms"


def page_timing(m: Any) -> str:
    """The Map page itself at this size, in headless Chromium against a real server: the
    bytes it fetches and its time to first paint (navigation to the map drawn) with the
    compact points (base64 typed arrays), against the same map fetched as a Plotly figure's
    JSON and drawn with ``Plotly.newPlot`` in the same page (the baseline); then hover: the
    time one ``Plotly.Fx.hover`` takes, and from hover to the point's text on the page."""
    import socket
    import threading
    from pathlib import Path

    import uvicorn

    from embedlab.server.app import create_app
    from embedlab.server.routes.maps import MapState

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return "no Chromium at /usr/bin/chromium: page not timed"
    from playwright.sync_api import sync_playwright

    app = create_app()
    app.state.maps = MapState()
    map_id = f"bench:{m.key[:12]}"
    app.state.maps.maps.put(map_id, (m, None))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        compact_bytes = len(httpx.get(f"{base}/lab/maps/{map_id}", timeout=300).content)
        figure_bytes = len(
            httpx.post(
                f"{base}/lab/maps/{map_id}/figure", json={"color_by": "cluster"}, timeout=300
            ).content
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/static/map.html?map={map_id}")
            page.wait_for_selector("#map[data-ready]", timeout=300_000)
            paint_ms = page.evaluate("() => window.mapPainted")
            hover_ms = page.evaluate(
                """() => { const gd = document.getElementById('map'); const t = performance.now();
                for (let i = 0; i < 20; i++) Plotly.Fx.hover(gd, {xpx: 300 + 20 * i, ypx: 300});
                return (performance.now() - t) / 20; }"""
            )
            fetch_ms = page.evaluate("() => window.mapPainted - window.mapFetchStart")
            # a real mouse over real points (the first trace's), until the page shows the text
            spots = page.evaluate(
                """() => { const gd = document.getElementById('map'); const t = gd._fullData[0];
                const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
                const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
                const step = Math.floor(t.x.length / 10);
                return [...Array(10).keys()].map((i) => [box.left + xa.l2p(t.x[step * i]),
                  box.top + ya.l2p(t.y[step * i]), t.customdata[step * i]]); }"""
            )
            waits = []
            for x, y, row in spots:
                page.mouse.move(x - 40, y - 40)
                start = time.perf_counter()
                page.mouse.move(x, y)
                try:
                    page.wait_for_function(
                        "() => document.getElementById('hovered').dataset.row !== undefined"
                        f" && document.getElementById('hovered').dataset.row === '{row}'",
                        timeout=5000,
                    )
                except Exception:  # another point under the mouse: not counted
                    continue
                waits.append(1000 * (time.perf_counter() - start))
            text_ms = float(np.median(waits)) if waits else float("nan")
            base_ms = page.evaluate(
                """async (id) => { const t = performance.now();
                const r = await fetch(`/lab/maps/${encodeURIComponent(id)}/figure`, {method: 'POST',
                  headers: {'Content-Type': 'application/json'}, body: '{"color_by": "cluster"}'});
                const f = (await r.json()).figure; const d = document.createElement('div');
                d.style = 'width:1200px;height:760px'; document.body.append(d);
                await Plotly.newPlot(d, f.data, f.layout); const ms = performance.now() - t;
                const h = performance.now();
                for (let i = 0; i < 20; i++) Plotly.Fx.hover(d, {xpx: 300 + 20 * i, ypx: 300});
                return [ms, (performance.now() - h) / 20]; }""",
                map_id,
            )
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return (
        f"Map page: {compact_bytes / 1e6:.1f} MB fetched, first paint {paint_ms / 1000:.2f} s "
        f"from navigation ({fetch_ms / 1000:.2f} s from the map's fetch to drawn), hover "
        f"{hover_ms:.0f} ms, mouse to the point's text shown {text_ms:.0f} ms (median of "
        f"{len(waits)}) | baseline figure JSON {figure_bytes / 1e6:.1f} MB, fetch + newPlot "
        f"{base_ms[0] / 1000:.2f} s, hover {base_ms[1]:.0f} ms | bytes "
        f"{figure_bytes / compact_bytes:.1f}x fewer, fetch-to-paint {base_ms[0] / fetch_ms:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--methods", nargs="+", default=["pca", "umap", "tsne"])
    parser.add_argument("--no-naive", action="store_true", help="skip the raw-384-dims baseline")
    parser.add_argument("--no-build", action="store_true", help="skip the build_map cache timing")
    parser.add_argument("--figure", action="store_true", help="time the figure at each size")
    args = parser.parse_args()

    import os

    os.environ["EMBEDLAB_HOME"] = tempfile.mkdtemp(prefix="embedlab-bench-")
    from embedlab.errors import TooManyPointsError
    from embedlab.maps import corpus_from_texts
    from embedlab.maps.build import build_map
    from embedlab.maps.projection import check_vectors, project, resolved_params

    data = clustered(max(args.sizes))
    for method in args.methods:  # imports, numba compilation: outside the timings
        if method != "tsne":
            # umap switches to NN-descent (compiled on first use) from 4,096 points
            warm = data[: min(len(data), 5000)]
            project(warm, method)
            direct(warm, method, True)
    rows: list[tuple[str, ...]] = []
    print(f"{'n':>7}  {'method':6} {'project s':>10} {'direct s':>9} {'ratio':>6} {'naive s':>8}")
    for n in args.sizes:
        x = data[:n]
        for method in args.methods:
            try:
                check_vectors(x, method)
            except TooManyPointsError as exc:
                print(f"{n:>7}  {method:6} refused: {exc}")
                rows.append(
                    (f"{n:,}", method, "refused (limit 50,000; offers a sample)", "", "", "")
                )
                continue
            pre = bool(resolved_params(method, n, x.shape[1], 0)["pre_pca"])
            # the baseline runs first, so any warm-up left over counts against it, not us
            t_dir, _ = best_of(REPEATS[method], direct, x, method, pre)
            t_proj, _ = best_of(REPEATS[method], project, x, method, seed=0)
            naive = ""
            if n <= 20_000 and method != "pca" and not args.no_naive:
                naive = f"{timed(direct, x, method, False)[0]:.1f}"
            ratio = t_proj / t_dir
            print(
                f"{n:>7}  {method:6} {t_proj:10.1f} {t_dir:9.1f} {ratio:6.2f} {naive:>8}",
                flush=True,
            )
            rows.append((f"{n:,}", method, f"{t_proj:.1f}", f"{t_dir:.1f}", f"{ratio:.2f}", naive))
        if args.no_build:
            continue
        corpus = corpus_from_texts(fake_texts(n))
        t_first, first = timed(build_map, corpus, vectors=x, method="pca", clusters=20)
        t_second, second = timed(build_map, corpus, vectors=x, method="pca", clusters=20)
        assert all(second.cached.values()) and not any(first.cached.values())
        print(
            f"{n:>7}  build_map pca+clusters+outliers+trust: first {t_first:.1f} s "
            f"({ {k: round(v, 1) for k, v in first.seconds.items()} }), "
            f"second (cached) {t_second:.2f} s: {t_first / t_second:.0f}x faster",
            flush=True,
        )
        if args.figure:
            print(f"{n:>7}  {figure_timing(second)}", flush=True)
            print(f"{n:>7}  {page_timing(second)}", flush=True)
        rows.append(
            (
                f"{n:,}",
                "build_map (pca, k-means 20, outliers, trust)",
                f"{t_first:.1f}",
                f"cached: {t_second:.2f}",
                f"{t_first / t_second:.0f}x",
                "",
            )
        )
    print("\n| points | method | embedlab s | direct s | ratio | naive (raw 384-d) s |")
    print("|---:|---|---:|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
