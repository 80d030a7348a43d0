"""Headless Panda3D rendering of drills: buildings, crowds and hazards, as PNG/JPEG frames.

Importing ``render`` loads nothing heavy; Panda3D is imported by :mod:`render.renderer`,
:mod:`render.service` and :mod:`render.headless` only. The simulation (``sim``) never
imports this package.

- :mod:`render.renderer` — :class:`~render.renderer.Renderer`: one scene, any state/camera.
- :mod:`render.service` — :class:`~render.service.RenderService`: frames as bytes from a
  dedicated render thread, for the network layer.
- :mod:`render.camera` — camera specs (overview, floor:N, pose:…, follow:ID).
- :mod:`render.state` — what is drawn: :class:`~render.state.SceneState`, from a drill.
- :mod:`render.recording` — states read back from a ``drill run`` folder.
- :mod:`render.cli` — the ``drill render`` command.
"""
