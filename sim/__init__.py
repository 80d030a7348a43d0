"""Simulation core of the evacuation-drill backend.

The simulation imports neither ``net`` nor ``panda3d``: the network layer and the renderer
consume a drill's state, they do not reach into it.
"""

__all__: list[str] = []
