"""The networked drill: websockets + msgpack protocol, server and client (issue 6).

Empty for now; it will consume a drill's state and never reach into ``sim``'s internals.
"""
