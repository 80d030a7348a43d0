"""``drill replay``, ``drill report``, ``drill compare``, ``drill archive``: recordings.

Errors (unreadable recording, wrong arguments) are :class:`sim.errors.RecordingError`,
which ``drill`` prints as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sim.errors import RecordingError

__all__ = ["add_parsers", "archive", "run_archive", "run_branch", "run_compare", "run_replay",
           "run_report"]


def add_parsers(sub: Any) -> None:
    """Add ``replay``, ``report``, ``compare``, ``branch`` and ``archive`` to ``drill``."""
    from net.cli import add_deploy_options, add_ops_options

    r = sub.add_parser("replay", help="replay a recording to clients, or verify it")
    r.add_argument("recording", help="a .rec file (drill run writes DIR/drill.rec)")
    r.add_argument("--serve", action="store_true",
                   help="stream it through the drill protocol (seek, pause, speed)")
    r.add_argument("--verify", action="store_true",
                   help="re-simulate from scenario, seed and commands; compare every frame")
    r.add_argument("--speed", type=float, default=1.0, help="playback speed (0.1-10)")
    r.add_argument("--from", dest="start", type=float, default=0.0, metavar="T",
                   help="start at simulated time T (s)")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, default=8765, help="TCP port (0: any free port)")
    r.add_argument("--tokens", help="write the drill id, url and tokens here as JSON")
    r.add_argument("--tick-hz", type=float, default=10.0, help="server ticks per second")
    add_deploy_options(r)  # --certfile, --keyfile, --public-url (with --serve)
    add_ops_options(r)  # --idle-timeout, --max-drills, --log-json (with --serve)
    r.set_defaults(func=run_replay)
    p = sub.add_parser("report", help="write the drill evaluation report (HTML + JSON)")
    p.add_argument("recording")
    p.add_argument("--out", required=True, help="folder for report.html, report.json, PNGs")
    p.add_argument("--lang", default="zh", choices=("zh", "en"), help="language (default zh)")
    p.add_argument("--no-stills", action="store_true", help="no 3D pictures (Panda3D)")
    p.add_argument("--pdf", action="store_true",
                   help="also report.pdf (A4, page numbers), printed by headless Chromium")
    p.add_argument("--sweep", metavar="DIR",
                   help="a drill sweep folder of the same set-up: the drill's time against "
                        "the distribution of its runs")
    p.set_defaults(func=run_report)
    c = sub.add_parser("compare", help="compare two recordings (curves and a table)")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--out", required=True, help="folder for compare.html/.json/.png")
    c.add_argument("--labels", metavar="A,B",
                   help="names of the two runs (default: scenario or drill title, and seed)")
    c.add_argument("--lang", default="zh", choices=("zh", "en"))
    c.add_argument("--sweeps", nargs=2, metavar=("DIR_A", "DIR_B"),
                   help="two drill sweep folders of the same two set-ups: the P95 difference "
                        "with its interval")
    c.set_defaults(func=run_compare)
    b = sub.add_parser("branch", help="re-simulate a recorded drill with a decision changed "
                                      "at time T (what if…)")
    b.add_argument("recording")
    b.add_argument("--at", type=float, required=True, metavar="T",
                   help="simulated time of the change, s")
    b.add_argument("--close-exit", action="append", default=[], metavar="ID")
    b.add_argument("--open-exit", action="append", default=[], metavar="ID")
    b.add_argument("--order-evacuation", nargs="?", const="", default=None, metavar="ZONE",
                   help="order the evacuation at T (of one zone, or of everyone)")
    b.add_argument("--inject", action="append", default=[], metavar="JSON",
                   help='an inject at T, e.g. \'{"kind": "smoke", "floor": 0, "x": 5, '
                        '"y": 5, "radius": 3}\'')
    b.add_argument("--drop", action="append", default=[], metavar="TYPE",
                   help="leave out recorded commands of this type after T (repeatable)")
    b.add_argument("--drop-later", action="store_true",
                   help="leave out every recorded command after T")
    b.add_argument("--out", required=True, help="folder for the branch's results")
    b.set_defaults(func=run_branch)
    a = sub.add_parser("archive", help="scenario, plan, recording and report in one zip")
    a.add_argument("recording")
    a.add_argument("--out", required=True, help="the .zip to write")
    a.add_argument("--lang", default="zh", choices=("zh", "en"))
    a.add_argument("--no-stills", action="store_true", help="no 3D pictures in the report")
    a.set_defaults(func=run_archive)


def _open(path: str) -> Any:
    from sim.recording import Recording

    if not Path(path).is_file():
        raise RecordingError(f"{path}: no such recording")
    return Recording(path)


def run_replay(args: argparse.Namespace) -> int:
    """Describe, verify or serve a recording."""
    if not 0.1 <= args.speed <= 10:
        raise RecordingError(f"--speed must be 0.1-10, got {args.speed:g}")
    if args.start < 0:
        raise RecordingError(f"--from must be >= 0 s, got {args.start:g}")
    if args.serve:
        from net.cli import deploy_config

        deploy_config(args)  # a bad certificate or --public-url: one line, before anything
    rec = _open(args.recording)
    t0, t1 = rec.time_range()
    info = {"recording": args.recording, "scenario": rec.header["name"], "seed": rec.seed,
            "agents": rec.header["total"], "from_s": t0, "to_s": t1,
            "chunks": len(rec.chunks), "commands": len(rec.commands()),
            "closed_cleanly": rec.closed_cleanly, "damage": rec.damage}
    if not args.serve:  # serving, the join line comes first, then this one
        print(json.dumps(info, ensure_ascii=False))
    if rec.damage:
        print(f"drill: warning: recording damaged, readable up to t = {t1:.2f} s: "
              f"{rec.damage}", file=sys.stderr)
    status = 0
    if args.verify:
        from sim.recording import verify

        res = verify(rec)
        print(json.dumps({"verify": "ok" if res.ok else "mismatch", "frames": res.frames,
                          "first_mismatch_tick": res.first_mismatch_tick,
                          "first_mismatch_t": res.first_mismatch_t,
                          "max_deviation_m": res.max_deviation_m,
                          "mismatched_frames": res.mismatched_frames,
                          "id_mismatches": res.id_mismatches}))
        status = 0 if res.ok else 1
    if args.serve:
        _serve(rec, args, info)
    return status


def _serve(rec: Any, args: argparse.Namespace, about: dict[str, Any]) -> None:
    from net.cli import deploy_config, link_lines, ops_config
    from net.replay import ReplayRoom
    from net.server import DrillServer, ServerConfig

    config = ServerConfig(host=args.host, port=args.port, tick_hz=args.tick_hz,
                          **deploy_config(args), **ops_config(args))

    async def main() -> None:
        server = DrillServer(config)
        await server.start()
        room = server.host(ReplayRoom(rec, speed=args.speed, start_t=args.start))
        info = {**server.info(room), "replay": args.recording}
        if args.tokens:
            Path(args.tokens).write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
        print(json.dumps(info, ensure_ascii=False), flush=True)
        print(json.dumps(about, ensure_ascii=False), flush=True)  # the recording's description
        print(f"replaying {args.recording} as drill {room.id} at {server.url}; open a link "
              "below in a browser to watch; Ctrl-C to stop", file=sys.stderr, flush=True)
        for line in link_lines(info):
            print(line, file=sys.stderr, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.close()

    asyncio.run(main())


def run_report(args: argparse.Namespace) -> int:
    """Write the evaluation report of a recording."""
    from sim.report import write_report

    _open(args.recording).close()
    t0 = time.perf_counter()
    data = write_report(args.recording, args.out, lang=args.lang, stills=not args.no_stills,
                        pdf=args.pdf, sweep=args.sweep)
    plan = data["plan"]
    print(json.dumps({"report": str(Path(args.out) / "report.html"),
                      "pdf": str(Path(args.out) / "report.pdf") if args.pdf else None,
                      "evacuated": data["evacuated"], "agents": data["agents"],
                      "evacuation_time_s": data["timeline_s"]["last_out"],
                      "plan_met": sum(p["met"] for p in plan), "plan_steps": len(plan),
                      "findings": len(data["findings"]), "stills": len(data["stills"]),
                      "wall_s": round(time.perf_counter() - t0, 2)}, ensure_ascii=False))
    if data["damage"]:
        print(f"drill: warning: recording damaged; report covers up to t = {data['end_t']} s: "
              f"{data['damage']}", file=sys.stderr)
    return 0


def run_branch(args: argparse.Namespace) -> int:
    """Write the branch of a recording; print its summary beside the original's."""
    from sim.branch import branch

    changes: list[dict[str, Any]] = []
    changes += [{"type": "door", "exit": e, "open": False} for e in args.close_exit]
    changes += [{"type": "door", "exit": e, "open": True} for e in args.open_exit]
    if args.order_evacuation is not None:
        changes.append({"type": "order_evacuation",
                        **({"zone": args.order_evacuation} if args.order_evacuation else {})})
    for text in args.inject:
        try:
            event = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordingError(f"--inject {text!r}: not JSON ({exc.msg})") from None
        if not isinstance(event, dict):
            raise RecordingError(f"--inject {text!r}: expected a JSON object")
        changes.append({"type": "inject", "event": event})
    if not changes and not args.drop and not args.drop_later:
        raise RecordingError("nothing to change: give --close-exit, --open-exit, "
                             "--order-evacuation, --inject, --drop or --drop-later")
    rec = _open(args.recording)
    try:
        original = rec.summary() or {}
        result = branch(rec, args.at, changes, args.out, drop=args.drop,
                        drop_later=args.drop_later)
    finally:
        rec.close()
    was, now = original.get("evacuation_time_s"), result.get("evacuation_time_s")
    print(f"branch at {args.at:g} s: evacuation {now} s (original {was} s); "
          f"{result.get('evacuated')}/{result.get('agents')} out")
    print(f"written to {args.out}/ (drill.rec, summary.json, …); compare with: drill compare "
          f"{args.recording} {Path(args.out) / 'drill.rec'} --out DIR")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    """Compare two recordings; print the table."""
    from sim.report import compare

    for p in (args.a, args.b):
        _open(p).close()
    labels = None
    if args.labels is not None:
        labels = tuple(x.strip() for x in args.labels.split(",", 1))
        if len(labels) != 2 or not all(labels):
            raise RecordingError(f"--labels must be two names A,B; got {args.labels!r}")
    rows = compare(args.a, args.b, args.out, lang=args.lang, labels=labels)

    def f(v: Any) -> str:
        return "—" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)

    width = max(len(r["label"]) for r in rows) + 2
    print(f"{'':<{width}}{'A':>10}{'B':>10}{'B-A':>10}")
    for r in rows:
        print(f"{r['label']:<{width}}{f(r['a']):>10}{f(r['b']):>10}{f(r['diff']):>10}")
    print(f"written to {args.out}/ (compare.html, compare.json, compare_curves.png, "
          "compare_times.png)")
    if args.sweeps:
        from sim.sweep import compare_p95, load_runs

        c = compare_p95(load_runs(args.sweeps[0]), load_runs(args.sweeps[1]))
        (Path(args.out) / "compare_sweeps.json").write_text(
            json.dumps(c, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        more = c["diff"] >= 0
        if args.lang == "zh":
            print(f"B 的 P95 比 A {'长' if more else '短'} {abs(c['diff']):.1f} 秒 ± "
                  f"{c['half_width']:.1f} 秒（95 % 区间 {c['ci'][0]:.1f}–{c['ci'][1]:.1f} 秒；"
                  f"各 {c['runs_a']} / {c['runs_b']} 次运行）")
        else:
            print(f"B {'lengthens' if more else 'shortens'} P95 by {abs(c['diff']):.1f} s ± "
                  f"{c['half_width']:.1f} s (95 % interval {c['ci'][0]:.1f} to "
                  f"{c['ci'][1]:.1f} s; {c['runs_a']} and {c['runs_b']} runs)")
    return 0


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def archive(rec_path: str | Path, out: str | Path, *, lang: str = "zh",
            stills: bool = True) -> dict[str, Any]:
    """Write the drill archive (资料归档) zip; returns its manifest.

    Holds ``scenario.toml``, ``plan.json``, ``drill.rec``, ``report/`` (HTML, JSON,
    pictures) and ``manifest.json`` with the SHA-256 and size of every other file.
    """
    from sim.recording import Recording
    from sim.report import write_report

    rec_path, out = Path(rec_path), Path(out)
    if out.suffix.lower() != ".zip":
        raise RecordingError(f"--out: '{out}' must end in .zip")
    with Recording(rec_path) as rec:
        header = rec.header
        scenario = rec.scenario()
        text = header["scenario"].get("toml")
        damage = rec.damage
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files: dict[str, Path] = {"drill.rec": rec_path}
        if text is not None:
            (root / "scenario.toml").write_text(text, encoding="utf-8")
            files["scenario.toml"] = root / "scenario.toml"
        (root / "plan.json").write_text(json.dumps([asdict(p) for p in scenario.plan],
                                                   ensure_ascii=False, indent=1) + "\n",
                                        encoding="utf-8")
        files["plan.json"] = root / "plan.json"
        report_dir = root / "report"
        write_report(rec_path, report_dir, lang=lang, stills=stills)
        for p in sorted(report_dir.iterdir()):
            files[f"report/{p.name}"] = p
        manifest = {
            "kind": "evacdrill drill archive", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "scenario": header["name"], "seed": header["seed"], "agents": header["total"],
            "recording_damage": damage,
            "files": [{"path": name, "bytes": p.stat().st_size, "sha256": _sha256(p)}
                      for name, p in files.items()],
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.with_name(out.name + ".part")
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
            for name, p in files.items():
                z.write(p, name)
        part.replace(out)
    return manifest


def run_archive(args: argparse.Namespace) -> int:
    """Archive a recording with its scenario, plan and report."""
    _open(args.recording).close()
    manifest = archive(args.recording, args.out, lang=args.lang, stills=not args.no_stills)
    print(json.dumps({"archive": args.out, "files": len(manifest["files"]),
                      "bytes": Path(args.out).stat().st_size}, ensure_ascii=False))
    return 0
