"""``drill ctl``: one instructor command to a running drill, for scripts and cron jobs.

::

    drill ctl ws://HOST:PORT/drills/ID --token T start
    drill ctl 'https://HOST:PORT/drills/ID/?token=T' inject fire 12,5 --radius 3
    drill ctl wss://HOST:PORT/drills/ID --token T --insecure speed 2

It joins as the instructor (:class:`net.client.DrillClient`), sends the command, waits for
its reply and prints one line (``ok: start acknowledged at tick 12``). A refusal, a wrong
token, an unknown drill, an unreachable server or a TLS problem raises
:class:`net.errors.NetError`, which ``drill`` prints as one line on standard error with
exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from net.errors import ClientError, NetError

__all__ = ["INJECT_KINDS", "Target", "add_parser", "build_command", "parse_target", "run_ctl"]

INJECT_KINDS = ("fire", "smoke", "gas", "flood", "power_cut", "alarm", "block_exit",
                "unblock_exit", "clear")
"""Inject kinds of docs/protocol.md ("Inject events")."""
_DISC_KINDS = ("fire", "smoke", "gas", "flood")
"""Kinds that act in a disc round (x, y): they need a point."""
_WS_SCHEME = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


@dataclass(frozen=True)
class Target:
    """Where a command goes: the server's WebSocket address, the drill and the token."""

    url: str
    """ws:// or wss:// address of the server (with a proxy's path prefix, if any)."""
    drill: str
    token: str


def parse_target(url: str, token: str | None = None) -> Target:
    """The target of ``ws(s)://HOST:PORT/drills/ID`` or of an instructor's link
    ``http(s)://HOST:PORT[/prefix]/drills/ID/?token=T``; ``token`` overrides the link's.

    Raises NetError for another form or a missing token.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise NetError(f"url '{url}': {exc}") from None
    if parts.scheme not in _WS_SCHEME or not parts.hostname:
        raise NetError(f"url must be ws(s)://HOST:PORT/drills/ID or the instructor's "
                       f"http(s)://…/drills/ID/?token=… link, got '{url}'")
    segs = parts.path.strip("/").split("/")
    if len(segs) < 2 or segs[-2] != "drills" or not segs[-1]:
        raise NetError(f"url '{url}' does not name a drill (…/drills/ID)")
    prefix = "/".join(segs[:-2])
    token = token or next(iter(parse_qs(parts.query).get("token", [])), None)
    if not token:
        raise NetError("a join token is needed: --token T, or the instructor's link with "
                       "?token=…")
    return Target(f"{_WS_SCHEME[parts.scheme]}://{parts.netloc}{'/' + prefix if prefix else ''}",
                  segs[-1], token)


def _point(text: str) -> tuple[float, float, int | None]:
    """``x,y`` or ``x,y,floor`` (metres, floor index)."""
    bits = text.split(",")
    try:
        if len(bits) not in (2, 3):
            raise ValueError
        x, y = float(bits[0]), float(bits[1])
        floor = int(bits[2]) if len(bits) == 3 else None
    except ValueError:
        raise NetError(f"inject: the point must be x,y or x,y,floor (metres, floor index), "
                       f"got '{text}'") from None
    return x, y, floor


def build_command(args: argparse.Namespace) -> tuple[str, dict[str, Any], str]:
    """The message type, its fields and how to name it in the answer line."""
    cmd = args.command
    if cmd == "speed":
        return "speed", {"factor": args.factor}, f"speed {args.factor:g}"
    if cmd != "inject":
        return cmd, {}, cmd
    kind = args.kind
    event: dict[str, Any] = {"kind": kind}
    if args.point is not None:
        x, y, floor = _point(args.point)
        event.update(x=x, y=y)
        if floor is not None:
            event["floor"] = floor
    elif kind in _DISC_KINDS or (kind == "power_cut" and args.radius):
        raise NetError(f"inject {kind} needs a point: x,y or x,y,floor")
    if kind in ("block_exit", "unblock_exit") and not args.exit:
        raise NetError(f"inject {kind} needs --exit ID")
    if kind == "clear" and not args.id:
        raise NetError("inject clear needs --id HAZARD (e.g. H1)")
    for key in ("radius", "factor", "note", "exit", "id"):
        value = getattr(args, key)
        if value is not None:
            event[key] = value
    return "inject", {"event": event}, f"inject {kind}"


def run_ctl(args: argparse.Namespace) -> int:
    """Send one instructor command; print one line (``ok: …``) or raise NetError."""
    from net.client import DrillClient
    from net.tls import client_context

    target = parse_target(args.url, args.token)
    kind, fields, label = build_command(args)
    tls = None
    if target.url.startswith("wss:"):
        tls = client_context(cafile=args.cafile, insecure=args.insecure)

    async def main() -> dict[str, Any]:
        client = DrillClient(target.url, drill=target.drill, token=target.token,
                             name=args.name, timeout=args.timeout, ssl=tls,
                             avatar=False)  # a wrong (participant's) token walks nobody
        await _connect(client, target)
        try:
            if client.role != "instructor":
                raise NetError(f"the token is the {client.role}'s: only the instructor's "
                               f"may send '{kind}'")
            return await client.request(kind, **fields)
        finally:
            await client.close()

    reply = asyncio.run(main())
    if reply.get("type") != "ack":
        why = f"{reply.get('code')}" + (f", {reply['reason']}" if reply.get("reason") else "")
        raise NetError(f"refused: {reply.get('message')} ({why})")
    print(f"ok: {label} acknowledged at tick {reply.get('tick')}", flush=True)
    return 0


async def _connect(client: Any, target: Target) -> None:
    """Join, turning every way of failing into one NetError line."""
    from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException

    where = f"{target.url} (drill {target.drill})"
    try:
        await client.connect()
    except ClientError as exc:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            text += " (a self-signed certificate? --insecure accepts it, --cafile trusts it)"
        raise NetError(text if target.url in text else f"{where}: {text}") from None
    except InvalidURI as exc:
        raise NetError(f"url '{target.url}': {exc}") from None
    except (InvalidHandshake, WebSocketException) as exc:
        hint = (" — does the server speak TLS? use wss:// or https://"
                if target.url.startswith("ws:") else "")
        raise NetError(f"cannot connect to {where}: {exc}{hint}") from None


def add_parser(sub: Any) -> None:
    """Add ``drill ctl`` to the ``drill`` parser."""
    def common(p: argparse.ArgumentParser, default: Any) -> None:
        # On ctl itself (defaults) and on each command (not overriding them unless given),
        # so that `drill ctl URL start --token T` works as well as `--token T start`.
        def d(value: Any) -> Any:
            return value if default is None else default

        p.add_argument("--token", default=d(None),
                       help="the instructor's token (default: ?token= of the url)")
        p.add_argument("--insecure", action="store_true", default=d(False),
                       help="wss: accept any certificate (a self-signed one)")
        p.add_argument("--cafile", metavar="PEM", default=d(None),
                       help="wss: trust the certificates in this PEM file")
        p.add_argument("--timeout", type=float, default=d(10.0),
                       help="seconds to wait for the server (default 10)")
        p.add_argument("--name", default=d("drill ctl"), help="name in the command log")

    c = sub.add_parser("ctl", help="send one instructor command to a running drill",
                       description="Send one instructor command to a running drill and "
                                   "print one line; exit status 2 when it is refused.")
    c.add_argument("url", help="ws(s)://HOST:PORT/drills/ID, or the instructor's "
                               "http(s)://…/drills/ID/?token=… link")
    common(c, None)
    cmds = c.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (("start", "start the drill"), ("pause", "pause it"),
                       ("resume", "resume it"), ("end", "end it (the report follows)")):
        common(cmds.add_parser(name, help=text), argparse.SUPPRESS)
    s = cmds.add_parser("speed", help="simulated seconds per real second (0.1-10)")
    s.add_argument("factor", type=float)
    common(s, argparse.SUPPRESS)
    i = cmds.add_parser("inject", help="a hazard or exit change now")
    i.add_argument("kind", choices=INJECT_KINDS)
    i.add_argument("point", nargs="?", metavar="x,y[,floor]",
                   help="where (metres; floor index, default 0)")
    i.add_argument("--radius", type=float, help="radius of the disc, m")
    i.add_argument("--factor", type=float, help="walking speed factor inside (0.05-1)")
    i.add_argument("--note", help="a note for the log")
    i.add_argument("--exit", help="exit id (block_exit, unblock_exit)")
    i.add_argument("--id", help="hazard id (clear; or the id to give the new one)")
    common(i, argparse.SUPPRESS)
    c.set_defaults(func=run_ctl)
