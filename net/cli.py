"""``drill serve``, ``drill join`` and ``drill ctl``: the networked drill from the command line.

Wrong input (scenario, arguments, a refused join) raises a :class:`sim.errors.SimError`
subclass, which the ``drill`` command prints as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from net.errors import ClientError, NetError

__all__ = ["ROLE_NAMES", "add_deploy_options", "add_forecast_options", "add_parsers",
           "deploy_config", "forecast_config", "link_lines", "run_join", "run_serve"]

DEFAULT_SCENARIO = "office"
ROLE_NAMES = {"participant": "参演人员", "instructor": "导调员", "observer": "评估人员"}
"""Chinese name of each role, in the order the join links are printed."""


def link_lines(info: dict[str, Any]) -> list[str]:
    """One line per role for people: ``参演人员 participant: http://…/drills/ID/?token=…``."""
    links = info.get("links", {})
    return [f"{ROLE_NAMES[role]} {role}: {links[role]}" for role in ROLE_NAMES
            if role in links]


def add_deploy_options(parser: argparse.ArgumentParser) -> None:
    """``--certfile``, ``--keyfile``, ``--public-url`` (``drill serve``, ``drill replay``)."""
    parser.add_argument("--certfile", metavar="PEM",
                        help="certificate (chain) in PEM: serve HTTPS and WSS on the port")
    parser.add_argument("--keyfile", metavar="PEM",
                        help="private key of --certfile in PEM (default: in --certfile)")
    parser.add_argument("--public-url", metavar="URL",
                        help="http(s)://host[:port][/prefix] to put in the join links, url "
                             "and glb (behind a proxy, or with --host 0.0.0.0)")


def add_ops_options(parser: argparse.ArgumentParser) -> None:
    """``--idle-timeout``, ``--max-drills``, ``--log-json`` (``drill serve``, ``drill replay``)."""
    parser.add_argument("--idle-timeout", type=float, default=30.0, metavar="MIN",
                        help="end a drill nobody has been connected to for MIN minutes "
                             "(default: 30)")
    parser.add_argument("--max-drills", type=int, default=32, metavar="N",
                        help="live drills hosted at most (default: 32; ended ones do not count)")
    parser.add_argument("--log-json", action="store_true",
                        help="log joins, leaves, commands and refusals as JSON lines "
                             "(default: key=value text) on stderr")


def add_forecast_options(parser: argparse.ArgumentParser) -> None:
    """``--scheduler``, ``--forecast-*``, ``--no-forecast`` (``drill serve``)."""
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler (tcp://host:8786) that instructors' forecasts run "
                             "on (default: a local cluster started with the server)")
    parser.add_argument("--forecast-workers", type=int, default=None, metavar="N",
                        help="local forecast cluster: worker processes (default: one per core)")
    parser.add_argument("--forecast-runs", type=int, default=8, metavar="K",
                        help="copies a forecast runs unless the instructor says (default: 8)")
    parser.add_argument("--forecast-after-inject", action="store_true",
                        help="forecast on its own after every inject")
    parser.add_argument("--no-forecast", action="store_true",
                        help="make no forecasts (and start no cluster)")


def forecast_config(args: argparse.Namespace) -> dict[str, Any]:
    """:class:`net.server.ServerConfig` fields of :func:`add_forecast_options`, checked."""
    from net.protocol import MAX_FORECAST_RUNS

    if not 1 <= args.forecast_runs <= MAX_FORECAST_RUNS:
        raise NetError(f"--forecast-runs must be 1-{MAX_FORECAST_RUNS}, got {args.forecast_runs}")
    if args.forecast_workers is not None and not 1 <= args.forecast_workers <= 256:
        raise NetError(f"--forecast-workers must be 1-256, got {args.forecast_workers}")
    if args.no_forecast and (args.scheduler or args.forecast_after_inject):
        raise NetError("--no-forecast cannot go with --scheduler or --forecast-after-inject")
    if args.scheduler and "://" not in args.scheduler:
        raise NetError(f"--scheduler must be an address like tcp://host:8786, "
                       f"got '{args.scheduler}'")
    return {"forecast": not args.no_forecast, "scheduler": args.scheduler,
            "forecast_workers": args.forecast_workers, "forecast_runs": args.forecast_runs,
            "forecast_after_inject": args.forecast_after_inject}


def ops_config(args: argparse.Namespace) -> dict[str, Any]:
    """:class:`net.server.ServerConfig` fields of :func:`add_ops_options`, checked; also
    sends the operations log (logger ``net.ops``) to stderr."""
    if not args.idle_timeout > 0:
        raise NetError(f"--idle-timeout must be > 0 minutes, got {args.idle_timeout:g}")
    if not 1 <= args.max_drills <= 10_000:
        raise NetError(f"--max-drills must be 1-10000, got {args.max_drills}")
    from net.ops import log_to_stderr

    log_to_stderr(json_lines=args.log_json)
    return {"idle_timeout": args.idle_timeout * 60.0, "max_drills": args.max_drills,
            "log_json": args.log_json}


def deploy_config(args: argparse.Namespace) -> dict[str, Any]:
    """:class:`net.server.ServerConfig` fields of :func:`add_deploy_options`, checked
    (a certificate or key that cannot be used, or a nonsense URL, raises NetError)."""
    from net.server import parse_public_url
    from net.tls import server_context

    if args.keyfile and not args.certfile:
        raise NetError("--keyfile needs --certfile")
    if args.certfile:
        server_context(args.certfile, args.keyfile)  # fail here, with one line, not later
    if args.public_url is not None:
        parse_public_url(args.public_url)
    return {"certfile": args.certfile, "keyfile": args.keyfile, "public_url": args.public_url}


def add_parsers(subparsers: Any) -> None:
    """Add the ``serve``, ``join`` and ``ctl`` sub-commands to the ``drill`` parser."""
    from net.ctl import add_parser as add_ctl

    s = subparsers.add_parser("serve", help="host a networked drill (websockets + msgpack)")
    s.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                   help=f"a built-in scenario or a .toml path (default: {DEFAULT_SCENARIO})")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--port", type=int, default=8765, help="TCP port (0: any free port)")
    s.add_argument("--tokens", help="write the drill id, url and join tokens here as JSON")
    s.add_argument("--tick-hz", type=float, default=10.0, help="server ticks per second")
    s.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    s.add_argument("--blind", action="store_true",
                   help="do not tell participants the scripted inject timeline")
    s.add_argument("--record", default="recordings", metavar="DIR",
                   help="record every drill into DIR (default: recordings; docs/recording.md)")
    s.add_argument("--no-record", action="store_true", help="do not record the drills")
    add_deploy_options(s)
    add_ops_options(s)
    s.add_argument("--workers", type=int, default=None, metavar="N",
                   help="host drills in N worker processes behind the one port (default: one "
                        "per core; 1: all in this process)")
    add_forecast_options(s)
    s.set_defaults(func=run_serve)
    j = subparsers.add_parser("join", help="join a drill as a headless participant or a bot")
    j.add_argument("url", help="ws://HOST:PORT of the server (or ws://HOST:PORT/drills/ID)")
    j.add_argument("--token", help="join token (or use --tokens FILE --role ROLE)")
    j.add_argument("--drill", help="drill id (default: from the url or the tokens file)")
    j.add_argument("--tokens", help="a tokens file written by `drill serve --tokens`")
    j.add_argument("--role", default="participant", choices=("instructor", "participant",
                                                              "observer"))
    j.add_argument("--name", default="", help="name shown to the others")
    j.add_argument("--bot", action="store_true", help="move and act instead of only watching")
    j.add_argument("--duration", type=float, default=None, help="leave after this many s")
    j.set_defaults(func=run_join)
    add_ctl(subparsers)


def run_serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted; prints the join information as one JSON line."""
    from net.server import DrillServer, ServerConfig

    if not 0 <= args.port <= 65535:
        raise NetError(f"--port must be 0-65535, got {args.port}")
    if not 0.5 <= args.tick_hz <= 100:
        raise NetError(f"--tick-hz must be 0.5-100, got {args.tick_hz}")
    config = ServerConfig(host=args.host, port=args.port, tick_hz=args.tick_hz,
                          blind=True if args.blind else None,
                          record_dir=None if args.no_record else args.record,
                          **deploy_config(args), **ops_config(args),
                          **forecast_config(args))

    workers = args.workers if args.workers is not None else os.cpu_count() or 1
    if not 1 <= workers <= 256:
        raise NetError(f"--workers must be 1-256, got {workers}")
    if workers > 1:
        from net.script import load_drill

        load_drill(args.scenario)  # a bad scenario: one line, before any process starts

    async def open_first(server: Any) -> tuple[dict[str, Any], int, Any]:
        if workers > 1:
            info = await server.open_drill(args.scenario, seed=args.seed)
            return info, info.pop("agents"), info.pop("recording")
        room = await server.add_drill(args.scenario, seed=args.seed)
        rec = room.recorder.path if room.recorder is not None else None
        return server.info(room), int(room.drill.total), rec

    async def main() -> None:
        if workers > 1:
            from net.workers import FrontServer

            server: Any = FrontServer(config, workers=workers)
        else:
            server = DrillServer(config)
        await server.start()
        try:
            info, agents, recording = await open_first(server)
        except BaseException:
            await server.close()
            raise
        if args.tokens:  # written before the line is printed: a reader of one finds both
            Path(args.tokens).write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
        print(json.dumps(info, ensure_ascii=False), flush=True)
        drill = info["drill"]
        print(f"serving drill {drill} ({info['scenario']}, {agents} agents) at {server.url}"
              + (f" with {workers} worker processes" if workers > 1 else "")
              + f"; scene as GLB at {server.http_url}/drills/{drill}/scene.glb; "
              "open a link below in a browser to join; Ctrl-C to stop",
              file=sys.stderr, flush=True)
        for line in link_lines(info):
            print(line, file=sys.stderr, flush=True)
        if recording is not None:
            print(f"recording into {recording}", file=sys.stderr, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.close()

    asyncio.run(main())
    return 0


def _join_target(args: argparse.Namespace) -> tuple[str, str, str]:
    url, drill, token = args.url, args.drill, args.token
    if args.tokens:
        try:
            info = json.loads(Path(args.tokens).read_text(encoding="utf-8"))
            drill = drill or info["drill"]
            token = token or info["tokens"][args.role]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise NetError(f"--tokens: cannot read '{args.tokens}' ({exc})") from None
    parsed = urlparse(url)
    if parsed.scheme not in ("ws", "wss"):
        raise NetError(f"url must start with ws:// or wss://, got '{url}'")
    parts = parsed.path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "drills":
        drill = drill or parts[1]
        url = f"{parsed.scheme}://{parsed.netloc}"
    if not drill:
        raise NetError("which drill? give --drill ID, a url ending in /drills/ID, or --tokens")
    if not token:
        raise NetError("a join token is needed: --token T (or --tokens FILE)")
    return url, drill, token


def run_join(args: argparse.Namespace) -> int:
    """Join a drill and print what happens (with ``--bot``, also move and act)."""
    from net.bot import act_as_bot, follow
    from net.client import DrillClient

    url, drill, token = _join_target(args)

    async def main() -> None:
        # A headless watcher walks nobody; a bot walks an avatar in the crowd.
        async with DrillClient(url, drill=drill, token=token, avatar=bool(args.bot),
                               name=args.name or ("bot" if args.bot else "")) as client:
            tasks = [follow(client, duration=args.duration,
                            write=lambda line: print(line, flush=True))]
            if args.bot:
                tasks.append(act_as_bot(client, duration=args.duration or 1e9))
            await asyncio.gather(*tasks)

    try:
        asyncio.run(main())
    except ClientError:
        raise
    return 0
