"""All agents as one Geom: a low hexagonal prism per agent, rewritten from numpy each frame.

Per frame the positions (n x 12 vertices), colours and the index prefix are each one
buffer copy into Panda3D's vertex arrays; there is no node, and no Python loop, per agent.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import NodePath, OmniBoundingVolume

from render.meshes import triangles_node, write_triangles
from render.palette import agent_colour_table
from render.state import AgentFrame

__all__ = ["BODY_HEIGHT", "SIDES", "AgentLayer"]

BODY_HEIGHT = 1.7
"""Height of an agent's prism, m."""
SIDES = 6
"""Sides of the prism."""
_SHADE_BOTTOM = 0.55
"""Brightness of the bottom ring (the top is the state colour itself): light from above."""


def _template() -> tuple[np.ndarray, np.ndarray]:
    """Unit prism: vertices (2 SIDES, 3) (radius 1, height 1) and triangle indices."""
    a = np.arange(SIDES) * (2 * np.pi / SIDES)
    ring = np.column_stack([np.cos(a), np.sin(a)])
    verts = np.vstack([np.column_stack([ring, np.zeros(SIDES)]),
                       np.column_stack([ring, np.ones(SIDES)])])
    k = np.arange(SIDES)
    k1 = (k + 1) % SIDES
    sides = np.stack([np.column_stack([k, k1, SIDES + k1]),
                      np.column_stack([k, SIDES + k1, SIDES + k])], axis=1).reshape(-1, 3)
    fan = np.column_stack([np.full(SIDES - 2, SIDES), SIDES + k[1:-1], SIDES + k[2:]])
    return verts, np.vstack([sides, fan]).reshape(-1).astype(np.uint32)


class AgentLayer:
    """The crowd's node; :meth:`update` redraws it from an :class:`AgentFrame`."""

    def __init__(self, parent: NodePath):
        self._unit, self._tri = _template()
        self._per_agent = len(self._unit)
        table = agent_colour_table().astype(np.float32)
        shade = np.where(self._unit[:, 2] > 0, 1.0, _SHADE_BOTTOM).astype(np.float32)
        shaded = table[:, None, :] * np.append(np.ones(3), 0)[None, None, :] * shade[None, :, None]
        shaded[..., 3] = 255
        self._colours = np.rint(shaded).astype(np.uint8)       # (256, 2 SIDES, 4)
        self._indices = np.zeros(0, np.uint32)
        node = triangles_node("agents", [np.zeros((0, 3), np.float32),
                                         np.zeros((0, 4), np.uint8)],
                              np.zeros(0, np.uint32), dynamic=True)
        # Agents move every frame: skip bounds recomputation and view-frustum culling.
        node.set_bounds(OmniBoundingVolume())
        node.set_final(True)
        self.node = parent.attach_new_node(node)
        self._geom = node.modify_geom(0)
        self.count = 0
        """Agents drawn in the last update."""

    def _index_prefix(self, n: int) -> np.ndarray:
        if len(self._indices) < n * len(self._tri):
            cap = max(n, 2 * len(self._indices) // max(len(self._tri), 1), 64)
            offsets = (np.arange(cap, dtype=np.uint32) * self._per_agent)[:, None]
            self._indices = (offsets + self._tri[None, :]).reshape(-1)
        return self._indices[: n * len(self._tri)]

    def update(self, agents: AgentFrame, *, below: float = np.inf,
               min_radius: float = 0.0) -> int:
        """Draw the agents whose feet are below ``below`` (m); returns how many.

        Each is at least ``min_radius`` wide (m) so crowds stay visible in far views.
        """
        keep = agents.xyz[:, 2] < below
        xyz = agents.xyz[keep]
        n = len(xyz)
        r = np.maximum(agents.radius[keep], min_radius)
        scale = np.column_stack([r, r, np.full(n, BODY_HEIGHT)])          # (n, 3)
        pos = (xyz[:, None, :] + self._unit[None, :, :] * scale[:, None, :]).astype(np.float32)
        state = np.where(agents.injured[keep], 255, agents.state[keep]).astype(np.intp)
        colours = self._colours[state]
        write_triangles(self._geom, [pos.reshape(-1, 3), colours.reshape(-1, 4)],
                        self._index_prefix(n))
        self.count = n
        return n
