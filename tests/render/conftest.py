"""Fixtures for the renderer tests: one offscreen display per session, drills of each scene.

Every test renders real pictures offscreen (p3headlessgl, or p3tinydisplay where EGL is
missing) and looks at their pixels. Helpers to import are in ``pictures.py`` (a name
imported from ``conftest`` would be ambiguous with tests/conftest.py).
"""

from __future__ import annotations

import pytest

from render.headless import Display, open_display
from render.renderer import Renderer
from sim.scenario import load


@pytest.fixture(scope="session")
def display() -> Display:
    return open_display()


_RENDERERS: dict[str, Renderer] = {}


@pytest.fixture(scope="session")
def renderer_of(display: Display):  # noqa: ANN201
    """``renderer_of(name)``: a Renderer of scenario ``name``'s scene (shared)."""

    def get(name: str) -> Renderer:
        if name not in _RENDERERS:
            _RENDERERS[name] = Renderer(load(name).scene, display=display)
        return _RENDERERS[name]

    yield get
    for r in _RENDERERS.values():
        r.close()
    _RENDERERS.clear()
