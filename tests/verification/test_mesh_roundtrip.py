"""Round trip: a scene exported to GLB (``drill export``) and imported back (``drill import``)
has the same floors, exits and stairs within tolerance, and evacuates within 10 %."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from sim.drill import Drill
from sim.scenario import Scenario, load, load_file, parse
from sim.scenes.export import export_glb
from sim.scenes.mesh_import import import_mesh


def _evacuation_time(sc: Scenario) -> float:
    drill = Drill(sc)
    while not drill.done():
        drill.step()
    assert drill.evacuated == drill.total
    return float(np.nanmax(drill.exit_time))


def _round_trip(original: Scenario, tmp_path: Path) -> Scenario:
    glb = export_glb(original.scene, tmp_path / "scene.glb")
    imported = import_mesh(glb)
    toml = tmp_path / "imported.toml"
    toml.write_text(imported.to_toml(), encoding="utf-8")
    back = load_file(toml)
    # The same people (groups refer to floors by index: the floors come back in order).
    return dataclasses.replace(back, groups=original.groups, settings=original.settings)


@pytest.mark.slow
@pytest.mark.parametrize("name, doc", [
    ("two_storey", None),
    ("school", {"name": "school-small", "scene": "school",
                "scene_params": {"storeys": 2, "classrooms_per_floor": 4,
                                 "pupils_per_class": 30}}),
    ("mine", None),
])
def test_exported_scene_imports_back_and_evacuates_alike(tmp_path: Path, name: str,
                                                         doc: dict | None) -> None:
    original = load(name) if doc is None else parse(doc)
    back = _round_trip(original, tmp_path)
    a, b = original.scene, back.scene
    assert [f.id for f in b.floors] == [f.id for f in a.floors]
    for fa, fb in zip(a.floors, b.floors, strict=True):
        assert fb.elevation == pytest.approx(fa.elevation, abs=0.01)
        assert fb.area.area == pytest.approx(fa.area.area, rel=0.02)
    exits_a = {e.id: e for e in a.exits}
    assert sorted(e.id for e in b.exits) == sorted(exits_a)
    for e in b.exits:
        ea = exits_a[e.id]
        assert e.floor == ea.floor and e.kind == ea.kind
        assert e.width == pytest.approx(ea.width)
        assert e.polygon.centroid.distance(ea.polygon.centroid) < 0.1
    stairs_a = {s.id: s for s in a.stairs}
    assert sorted(s.id for s in b.stairs) == sorted(stairs_a)
    for s in b.stairs:
        sa = stairs_a[s.id]
        assert sorted(s.floors) == sorted(sa.floors)
        assert (s.length, s.width, s.kind) == (sa.length, sa.width, sa.kind)
    t_a, t_b = _evacuation_time(original), _evacuation_time(back)
    assert t_b == pytest.approx(t_a, rel=0.10), (t_a, t_b)
