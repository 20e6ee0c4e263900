"""Widget cost: gzipped size and main-thread time on page load in Chromium (issue 8, item 7).

Serves a built Docusaurus site (the one ``chat/tests/browser/make_docusaurus_site.sh``
builds, cached under ``~/.cache/chatsite/docusaurus-site/build``; or ``--site``) from a
static server in two copies: as built (the widget's ``<script defer>`` tag pointing at a
uvicorn running this project) and with that tag removed. Without a built site it uses the
project's demo page with and without its script tag.

Each copy is loaded ``--loads`` times, alternating, in Debian's Chromium via Playwright
(never ``playwright install``), each in a fresh browser context (cold cache). Per load it
records: CDP ``Performance.getMetrics`` (script, task, layout and style time of the main
thread), long tasks (``PerformanceObserver``, buffered), DOMContentLoaded and load, and the
widget's transfer size. The widget's cost is the median difference between the two copies.

    .venv/bin/python bench/widget_cost.py [--loads 10] [--site PATH/TO/build]
"""

import argparse
import functools
import gzip
import http.server
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DEFAULT_SITE = Path.home() / ".cache" / "chatsite" / "docusaurus-site" / "build"
WIDGET = h.ROOT / "chat" / "static" / "chat" / "widget.js"
SCRIPT_TAG = re.compile(r"<script[^>]*?/static/chat/widget\.js[^>]*>\s*</script>", re.IGNORECASE)
ORIGIN = re.compile(r"http://127\.0\.0\.1:\d+(?=/static/chat/widget\.js|[ >\"'])")

OBSERVER = """
window.__longtasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longtasks.push({start: e.startTime, duration: e.duration});
  }).observe({type: 'longtask', buffered: true});
} catch (e) {}
"""

COLLECT = """() => {
  const nav = performance.getEntriesByType('navigation')[0] || {};
  const widget = performance.getEntriesByType('resource').find(r => r.name.includes('/static/chat/widget.js'));
  return {
    dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    longtasks: window.__longtasks,
    widget: widget ? {transfer: widget.transferSize, decoded: widget.decodedBodySize,
                      duration: widget.duration} : null,
    element: !!document.querySelector('docs-chat, chat-widget, [data-chat-widget]') ||
             Array.from(document.querySelectorAll('*')).some(e => e.tagName.includes('-') && e.shadowRoot),
  };
}"""


def static_server(root: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def prepare_copies(site: Path | None, tmp: Path, api: str) -> tuple[Path, Path, str, str]:
    """Two copies of the site: with the widget (pointing at ``api``) and without it.
    Returns (with, without, page path, what the page is)."""
    with_dir, without_dir = tmp / "with", tmp / "without"
    if site and (site / "index.html").exists():
        shutil.copytree(site, with_dir)
        shutil.copytree(site, without_dir)
        for html in with_dir.rglob("*.html"):
            text = html.read_text(errors="replace")
            if "/static/chat/widget.js" in text:
                html.write_text(ORIGIN.sub(api, text))
        for html in without_dir.rglob("*.html"):
            html.write_text(SCRIPT_TAG.sub("", html.read_text(errors="replace")))
        page = "/docs/intro/" if (site / "docs" / "intro" / "index.html").exists() else "/"
        return with_dir, without_dir, page, f"Docusaurus site ({site})"
    # No built site: the demo page, rendered by the server, with and without its script tag.
    import urllib.request

    html = urllib.request.urlopen(f"{api}/", timeout=10).read().decode()
    html = html.replace('src="/static/', f'src="{api}/static/')
    with_dir.mkdir()
    without_dir.mkdir()
    (with_dir / "index.html").write_text(html)
    (without_dir / "index.html").write_text(SCRIPT_TAG.sub("", html))
    return with_dir, without_dir, "/", "the demo page (no built Docusaurus site found)"


def load_once(browser, url: str) -> dict:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(OBSERVER)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        data = page.evaluate(COLLECT)
        return {
            "script_ms": metrics.get("ScriptDuration", 0) * 1000,
            "task_ms": metrics.get("TaskDuration", 0) * 1000,
            "layout_style_ms": (metrics.get("LayoutDuration", 0) + metrics.get("RecalcStyleDuration", 0)) * 1000,
            "js_heap_mb": metrics.get("JSHeapUsedSize", 0) / 1e6,
            "longtasks": len(data["longtasks"]),
            "longtask_ms": sum(t["duration"] for t in data["longtasks"]),
            "dcl_ms": data["dcl"], "load_ms": data["load"], "widget": data["widget"],
            "element": data["element"],
        }
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10, help="page loads per variant")
    parser.add_argument("--site", type=Path, default=DEFAULT_SITE, help="a built Docusaurus site")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        h.say(f"widget_cost: {CHROMIUM} not found (apt-get install chromium); skipped")
        return 2
    from playwright.sync_api import sync_playwright

    raw = WIDGET.read_bytes()
    sizes = {"raw_bytes": len(raw), "gzip9_bytes": len(gzip.compress(raw, 9, mtime=0))}
    budget = subprocess.run([h.PYTHON, str(h.BENCH / "widget_size.py")], capture_output=True, text=True)
    sizes["widget_size_py"] = budget.stdout.strip()

    with h.workdir("widget") as tmp:
        static_port = h.free_port()
        env = h.app_env(tmp, database_url=f"sqlite:///{tmp}/db.sqlite3", index_dir=tmp / "index",
                        CORS_ALLOWED_ORIGINS=f"http://127.0.0.1:{static_port}", LOG_LEVEL="WARNING")
        h.manage(env, "migrate", "--no-input", "-v", "0")
        server, port = h.uvicorn(env, tmp)
        api = f"http://127.0.0.1:{port}"
        try:
            import httpx

            served = httpx.get(f"{api}/static/chat/widget.js", headers={"Accept-Encoding": "gzip, br"})
            sizes["as_served"] = {"status": served.status_code,
                                  "content_encoding": served.headers.get("content-encoding", "identity"),
                                  "bytes_on_wire": int(served.headers.get("content-length") or len(served.content)),
                                  "cache_control": served.headers.get("cache-control")}
            with_dir, without_dir, page, what = prepare_copies(args.site, tmp, api)
            results = {"with": [], "without": []}
            statics = {}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    for variant, root in (("with", with_dir), ("without", without_dir)):
                        statics[variant] = static_server(root)
                    # The static server for "with" must be on the origin CORS allows: restart it there.
                    statics["with"][0].shutdown()
                    srv = http.server.ThreadingHTTPServer(
                        ("127.0.0.1", static_port),
                        functools.partial(type("Q", (http.server.SimpleHTTPRequestHandler,),
                                               {"log_message": lambda *a: None}), directory=str(with_dir)))
                    threading.Thread(target=srv.serve_forever, daemon=True).start()
                    statics["with"] = (srv, static_port)
                    for variant in ("with", "without"):
                        load_once(browser, f"http://127.0.0.1:{statics[variant][1]}{page}")  # warm up
                    for _ in range(args.loads):
                        for variant in ("with", "without"):
                            results[variant].append(
                                load_once(browser, f"http://127.0.0.1:{statics[variant][1]}{page}"))
                finally:
                    browser.close()
                    for srv, _ in statics.values():
                        srv.shutdown()
        finally:
            server.stop()

    def med(variant, key):
        return statistics.median(r[key] for r in results[variant])

    rows, deltas = [], {}
    for key, label in (("script_ms", "main-thread script ms"), ("task_ms", "main-thread tasks ms"),
                       ("layout_style_ms", "layout + style ms"), ("longtasks", "long tasks (≥ 50 ms)"),
                       ("longtask_ms", "long-task ms"), ("dcl_ms", "DOMContentLoaded ms"),
                       ("load_ms", "load event ms"), ("js_heap_mb", "JS heap MB")):
        w, wo = med("with", key), med("without", key)
        deltas[key] = round(w - wo, 2)
        rows.append([label, round(w, 1), round(wo, 1), round(w - wo, 1)])
    loaded = sum(1 for r in results["with"] if r["element"])
    h.say(f"\nWidget cost on {what}, page {page}, median of {args.loads} cold loads per variant (Chromium)")
    h.say(h.table(["metric", "with widget", "without", "widget's cost"], rows))
    h.say(f"\nwidget.js: {sizes['raw_bytes']} bytes, {sizes['gzip9_bytes']} gzipped (-9); "
          f"as served by this project: {sizes['as_served']}; "
          f"widget element present in {loaded}/{len(results['with'])} loads")
    h.say(f"bench/widget_size.py: {sizes['widget_size_py']}")
    h.write_results("widget_cost", {"page": what, "path": page, "loads": args.loads, "sizes": sizes,
                                    "median_cost": deltas, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
