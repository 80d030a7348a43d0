"""The networked drill: websockets + msgpack protocol v1, server and client (docs/protocol.md).

- :mod:`net.protocol` — framing, message schemas and validation, roles (no I/O);
- :mod:`net.state` — quantised agent snapshots and deltas (encoder and decoder);
- :mod:`net.room` — one hosted drill: seats, tokens, commands, the per-tick stream;
- :mod:`net.server` — the websockets server (thin pump around rooms);
- :mod:`net.client`, :mod:`net.bot` — the Python client, bots, the headless participant;
- :mod:`net.script` — scenario files with an ``[[injects]]`` timeline and ``[drill]`` options;
- :mod:`net.view` — rendered views through the optional render service;
- :mod:`net.cli` — ``drill serve`` and ``drill join``.

The package consumes a drill's state through :class:`sim.drill.Drill`'s public methods;
``sim`` never imports it.
"""
