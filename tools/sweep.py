"""``drill sweep``: many runs of a scenario on Dask, and the spread of their results.

    drill sweep SCENARIO --runs N [--vary KEY=SPEC ...] [--scheduler ADDRESS]
                [--workers W] [--lang zh|en] --out DIR

Without ``--scheduler`` the runs go to a ``LocalCluster`` on this machine (one worker
process per core, or ``--workers``); with one, to any Dask cluster. What varies and how
the results are summed up is :mod:`sim.sweep`. Writes ``runs.jsonl`` (one line per run:
its parameters and summary, or its error), ``sweep.json`` (the aggregate),
``sweep.html`` (Chinese) and ``sweep.en.html``, and the plots. Failed runs are reported
with their parameters; the sweep finishes the rest.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError

__all__ = ["add_parser", "sweep"]


def add_parser(sub: Any) -> None:
    """Add ``drill sweep`` to the ``drill`` parser."""
    s = sub.add_parser("sweep", help="many runs of a scenario on Dask: evacuation time "
                                     "P50 / P95 / max, per exit and floor")
    s.add_argument("scenario", help="a built-in scenario name or a .toml file")
    s.add_argument("--runs", type=int, required=True, help="number of runs (1-10000)")
    s.add_argument("--vary", action="append", default=[], metavar="KEY=SPEC",
                   help="seed=START, scale=A:B, speed=A:B, premovement=A:B, close=EXIT@T[:T2]"
                        " (docs/sweep.md)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="a Dask scheduler (tcp://host:8786); default: a local cluster")
    s.add_argument("--workers", type=int, default=None,
                   help="local cluster: worker processes (default: one per core)")
    s.add_argument("--lang", default="zh", choices=("zh", "en"),
                   help="language of the page sweep.html (both are written)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--out", required=True, help="folder for runs.jsonl, sweep.json, pages")
    s.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from sim.scenario import load

    if not 1 <= args.runs <= 10_000:
        raise ScenarioError(f"--runs must be 1 to 10000, got {args.runs}")
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise ScenarioError(f"--workers must be 1 to 256, got {args.workers}")
    result = sweep(load(args.scenario), args.runs, args.vary, args.out,
                   scheduler=args.scheduler, workers=args.workers, progress=not args.quiet)
    ev = result.get("evacuation_s")
    if ev:
        print(f"{result['finished']}/{result['runs']} runs finished: evacuation P50 "
              f"{ev['p50']} s, P95 {ev['p95']} s (95 % CI {ev['p95_ci'][0]}–"
              f"{ev['p95_ci'][1]} s), max {ev['max']} s")
    if result["failed"]:
        print(f"{result['failed']} runs failed (runs.jsonl has their parameters and errors)")
    print(f"written to {args.out}/ (runs.jsonl, sweep.json, sweep.html, sweep.en.html)")
    return 0


def _client(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    """A Dask client (and the local cluster it owns, or None)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as exc:
            raise ScenarioError(f"--scheduler {scheduler}: cannot reach it "
                                f"({type(exc).__name__}: {exc})") from None
    import dask

    from net.forecast import QUIET_WORKERS

    n = workers or os.cpu_count() or 1
    with dask.config.set(QUIET_WORKERS):  # no profiler sampling the runs
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=40)
    return Client(cluster), cluster


def sweep(scenario: Any, runs: int, vary_specs: list[str], out: str | Path, *,  # noqa: ANN401
          scheduler: str | None = None, workers: int | None = None,
          progress: bool = True) -> dict[str, Any]:
    """Run ``runs`` variants of ``scenario`` on Dask and write the results into ``out``."""
    from distributed import as_completed

    from sim.sweep import aggregate, parse_vary, run_one

    vary = parse_vary(vary_specs, scenario)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    client, cluster = _client(scheduler, workers)
    t0 = time.perf_counter()  # the runs' wall time leaves the cluster's start-up out
    results: list[dict[str, Any]] = []
    try:
        base = client.scatter(scenario, broadcast=True)
        futures = [client.submit(run_one, base, vary, i, pure=False) for i in range(runs)]
        with open(out / "runs.jsonl", "w", encoding="utf-8") as fh:
            for fut in as_completed(futures):  # one iteration per finished run
                r = fut.result()
                results.append(r)
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
                fh.flush()
                if progress:
                    _bar(len(results), runs, sum(not x["ok"] for x in results))
        n_workers = len(client.scheduler_info().get("workers", {}))
        wall = time.perf_counter() - t0
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    agg = aggregate(results)
    busy = agg["run_wall_s"]["total"]
    agg.update(scenario=scenario.name, vary=vary_specs, workers=n_workers,
               wall_s=round(wall, 2), cluster_start_s=round(t0 - t_start, 2),
               overhead_per_run=round(max(wall * n_workers - busy, 0.0) / max(busy, 1e-9), 3))
    (out / "sweep.json").write_text(json.dumps(agg, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    for lang, name in (("zh", "sweep.html"), ("en", "sweep.en.html")):
        (out / name).write_text(_page(agg, lang), encoding="utf-8")
    return agg


def _bar(done: int, total: int, failed: int) -> None:
    frac = done / max(total, 1)
    sys.stderr.write(f"\r[{'#' * int(30 * frac):<30}] {done}/{total} runs"
                     + (f", {failed} failed" if failed else ""))
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


_W = {
    "title": {"zh": "多次运行的疏散时间分布", "en": "Evacuation time over many runs"},
    "runs": {"zh": "运行次数", "en": "runs"}, "finished": {"zh": "全部撤离", "en": "all out"},
    "failed": {"zh": "失败", "en": "failed"}, "p50": {"zh": "中位数 P50", "en": "median P50"},
    "p95": {"zh": "第 95 百分位 P95", "en": "95th percentile P95"},
    "ci": {"zh": "P95 的 95 % 置信区间（自助法）", "en": "95 % interval of P95 (bootstrap)"},
    "max": {"zh": "最大值", "en": "max"}, "exit": {"zh": "出口", "en": "exit"},
    "exits_h": {"zh": "出口", "en": "Exits"}, "floors_h": {"zh": "楼层", "en": "Floors"},
    "use": {"zh": "使用人数（平均 / 最少 / 最多）", "en": "people (mean / min / max)"},
    "floor": {"zh": "楼层", "en": "floor"},
    "clear_s": {"zh": "清空时间 P50 / P95 (秒)", "en": "clear at P50 / P95 (s)"},
    "conv": {"zh": "P95 随运行次数的变化（是否收敛）", "en": "Running P95 against the number of "
                                                     "runs (has it converged?)"},
    "n": {"zh": "运行次数", "en": "runs"},
    "errors": {"zh": "失败的运行（参数与错误）", "en": "Failed runs (parameters and error)"},
    "vary": {"zh": "变化项：", "en": "varied: "}, "s": {"zh": "秒", "en": "s"},
}


def _plots(agg: dict[str, Any], lang: str) -> list[str]:
    """The running-P95 and histogram plots as data URIs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.report.plots import figure_png, use_language

    pl = use_language(lang)
    uris = []
    rp = agg.get("running_p95") or []
    if rp:
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        ax.plot(range(1, len(rp) + 1), rp, marker=".")
        ax.xaxis.get_major_locator().set_params(integer=True)
        lo, hi = agg["evacuation_s"]["p95_ci"]
        ax.axhspan(lo, hi, alpha=0.15)
        ax.set_xlabel(_W["n"][pl])
        ax.set_ylabel("P95 (s)")
        ax.set_title(_W["conv"][pl])
        ax.grid(alpha=0.3)
        uris.append(base64.b64encode(figure_png(fig)).decode())
    return uris


def _page(agg: dict[str, Any], lang: str) -> str:
    from jinja2 import Environment

    w = {k: v[lang] for k, v in _W.items()}
    env = Environment(autoescape=True)
    tpl = env.from_string(_TEMPLATE)
    return tpl.render(a=agg, w=w, lang=lang, plots=_plots(agg, lang))


_TEMPLATE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head><meta charset="utf-8">
<title>{{ w.title }} — {{ a.scenario }}</title>
<style>body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;max-width:60em;
margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;
padding:.3em .6em;text-align:right}th{background:#f3f3f3}</style></head><body>
<h1>{{ w.title }} — {{ a.scenario }}</h1>
<p>{{ w.runs }} {{ a.runs }} · {{ w.finished }} {{ a.finished }} · {{ w.failed }} {{ a.failed }}
{% if a.vary %}· {{ w.vary }}{{ a.vary | join(', ') }}{% endif %}</p>
{% if a.evacuation_s %}<table>
<tr><th>{{ w.p50 }}</th><th>{{ w.p95 }}</th><th>{{ w.ci }}</th><th>{{ w.max }}</th></tr>
<tr><td>{{ a.evacuation_s.p50 }} {{ w.s }}</td><td>{{ a.evacuation_s.p95 }} {{ w.s }}</td>
<td>{{ a.evacuation_s.p95_ci[0] }}–{{ a.evacuation_s.p95_ci[1] }} {{ w.s }}</td>
<td>{{ a.evacuation_s.max }} {{ w.s }}</td></tr></table>{% endif %}
{% for p in plots %}<p><img alt="{{ w.conv }}" src="data:image/png;base64,{{ p }}"></p>
{% endfor %}
<h2>{{ w.exits_h }}</h2><table><tr><th>{{ w.exit }}</th><th>{{ w.use }}</th></tr>
{% for e, u in a.exits.items() %}<tr><td>{{ e }}</td><td>{{ u.mean }} / {{ u.min }} /
{{ u.max }}</td></tr>{% endfor %}</table>
<h2>{{ w.floors_h }}</h2><table><tr><th>{{ w.floor }}</th><th>{{ w.clear_s }}</th></tr>
{% for f, c in a.floors_clear_s.items() %}<tr><td>{{ f }}</td><td>{{ c.p50 }} / {{ c.p95 }}
</td></tr>{% endfor %}</table>
{% if a.failures %}<h2>{{ w.errors }}</h2><ul>{% for r in a.failures %}<li>{{ r }}</li>
{% endfor %}</ul>{% endif %}
</body></html>
"""
