"""IFC models for the tests, written with ifcopenshell.api: a small house of storeys with
slabs, walls, doors in openings, spaces and a stair."""

from __future__ import annotations

from pathlib import Path

import numpy as np

H = 3.0
"""Storey height, m."""
RISERS, TREAD = 14, 0.28
STAIR_X, STAIR_Y = 5.0, (5.8, 6.8)
"""The stair runs from x = 5 m up along +x, 1.0 m wide between these y (m)."""


def house(path: Path, *, schema: str = "IFC4", millimetres: bool = True, storeys: int = 2,
          stair: bool = True, spaces: bool = True, units: bool = True, bays: int = 1) -> Path:
    """A 10 m x 8 m house of ``storeys`` storeys 3 m apart: 0.2 m walls, a 1.0 m front door
    ("Main door", south wall) and an inner wall with a 0.9 m door on each storey, a hole in
    each upper slab over a straight stair of 14 solid steps from each storey to the next,
    and two named spaces per storey (west and east of the inner wall). ``bays`` such
    houses side by side along x (10 m apart; for benchmarks) make one building."""
    from ifcopenshell.api import run

    f = run("project.create_file", version=schema)
    if schema == "IFC2X3":  # rooted entities need an owner history there
        import ifcopenshell.api.owner.settings as owner

        person = run("owner.add_person", f)
        org = run("owner.add_organisation", f)
        user = run("owner.add_person_and_organisation", f, person=person, organisation=org)
        app = run("owner.add_application", f)
        owner.get_user = lambda _f: user
        owner.get_application = lambda _f: app
    project = run("root.create_entity", f, ifc_class="IfcProject", name="test house")
    s = 1000.0 if millimetres else 1.0
    if units:
        length = run("unit.add_si_unit", f, unit_type="LENGTHUNIT",
                     prefix="MILLI" if millimetres else None)
        run("unit.assign_unit", f, units=[length])
    model = run("context.add_context", f, context_type="Model")
    body = run("context.add_context", f, context_type="Model", context_identifier="Body",
               target_view="MODEL_VIEW", parent=model)
    site = run("root.create_entity", f, ifc_class="IfcSite", name="site")
    building = run("root.create_entity", f, ifc_class="IfcBuilding", name="house")
    run("aggregate.assign_object", f, relating_object=project, products=[site])
    run("aggregate.assign_object", f, relating_object=site, products=[building])

    def place(el, x: float, y: float, z: float, angle: float = 0.0) -> None:  # noqa: ANN001
        m = np.eye(4)
        c, sn = np.cos(angle), np.sin(angle)
        m[:3, :3] = [[c, -sn, 0], [sn, c, 0], [0, 0, 1]]
        m[:3, 3] = (x, y, z)
        run("geometry.edit_object_placement", f, product=el, matrix=m)

    def prism(ifc_class: str, name: str, st, poly, z: float, depth: float):  # noqa: ANN001, ANN202
        el = run("root.create_entity", f, ifc_class=ifc_class, name=name)
        rep = run("geometry.add_slab_representation", f, context=body, depth=depth,
                  polyline=poly)
        run("geometry.assign_representation", f, product=el, representation=rep)
        place(el, 0, 0, z)
        if ifc_class == "IfcSpace":  # a spatial element: part of the storey
            run("aggregate.assign_object", f, relating_object=st, products=[el])
        else:
            run("spatial.assign_container", f, relating_structure=st, products=[el])
        return el

    def wall(st, z: float, a, b, doors=()) -> None:  # noqa: ANN001
        el = run("root.create_entity", f, ifc_class="IfcWall", name="wall")
        ang = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
        rep = run("geometry.add_wall_representation", f, context=body,
                  length=float(np.hypot(b[0] - a[0], b[1] - a[1])), height=H - 0.2,
                  thickness=0.2)
        run("geometry.assign_representation", f, product=el, representation=rep)
        place(el, a[0], a[1], z, ang)
        run("spatial.assign_container", f, relating_structure=st, products=[el])
        ux, uy = np.cos(ang), np.sin(ang)
        for at, width, name in doors:
            op = run("root.create_entity", f, ifc_class="IfcOpeningElement")
            orep = run("geometry.add_wall_representation", f, context=body, length=width,
                       height=2.1, thickness=0.6)
            run("geometry.assign_representation", f, product=op, representation=orep)
            place(op, a[0] + ux * at + uy * 0.2, a[1] + uy * at - ux * 0.2, z, ang)
            run("feature.add_feature", f, feature=op, element=el)
            door = run("root.create_entity", f, ifc_class="IfcDoor", name=name)
            door.OverallWidth, door.OverallHeight = width * s, 2.1 * s
            drep = run("geometry.add_wall_representation", f, context=body, length=width,
                       height=2.1, thickness=0.05)
            run("geometry.assign_representation", f, product=door, representation=drep)
            place(door, a[0] + ux * at - uy * 0.075, a[1] + uy * at + ux * 0.075, z, ang)
            run("spatial.assign_container", f, relating_structure=st, products=[door])
            run("feature.add_filling", f, opening=op, element=door)

    levels = []
    for k in range(storeys):
        st = run("root.create_entity", f, ifc_class="IfcBuildingStorey", name=f"{k + 1}F")
        st.Elevation = k * H * s
        run("aggregate.assign_object", f, relating_object=building, products=[st])
        place(st, 0, 0, k * H)
        levels.append(st)
    y0, y1 = STAIR_Y
    for b in range(bays):
        ox, tag = 10.0 * b, "" if b == 0 else f" {b + 1}"
        sx = STAIR_X + ox
        x1 = sx + RISERS * TREAD
        for k, st in enumerate(levels):
            z = k * H
            if k == 0 or not stair:
                prism("IfcSlab", "slab", st, [(ox, 0), (ox + 10, 0), (ox + 10, 8), (ox, 8)],
                      z - 0.2, 0.2)
            else:  # a stairwell left open over the flight from the storey below
                for poly in ([(ox, 0), (ox + 10, 0), (ox + 10, y0), (ox, y0)],
                             [(ox, y1), (ox + 10, y1), (ox + 10, 8), (ox, 8)],
                             [(ox, y0), (sx, y0), (sx, y1), (ox, y1)],
                             [(x1, y0), (ox + 10, y0), (ox + 10, y1), (x1, y1)]):
                    prism("IfcSlab", "slab", st, poly, z - 0.2, 0.2)
            wall(st, z, (ox, 0), (ox + 10, 0),
                 doors=[(2.0, 1.0, "Main door" + tag)] if k == 0 else [])
            wall(st, z, (ox + 10, 0), (ox + 10, 8))
            wall(st, z, (ox + 10, 8), (ox, 8))
            wall(st, z, (ox, 8), (ox, 0))
            wall(st, z, (ox + 4.0, 0.2), (ox + 4.0, 5.0),
                 doors=[(2.0, 0.9, f"door {k + 1}F{tag}")])
            if spaces:
                for label, xa, xb in (("西室", 0.2, 3.9), ("东室", 4.1, 9.8)):
                    prism("IfcSpace", f"{k + 1}F {label}{tag}", st,
                          [(ox + xa, 0.2), (ox + xb, 0.2), (ox + xb, 7.8), (ox + xa, 7.8)],
                          z, H - 0.2)
            if stair and k + 1 < storeys:
                flight = run("root.create_entity", f, ifc_class="IfcStairFlight", name="flight")
                verts, faces = [], []
                for r in range(RISERS):
                    xa, xb = sx + r * TREAD, sx + (r + 1) * TREAD
                    top = (r + 1) * H / RISERS
                    verts.append([(xa, y0, 0), (xb, y0, 0), (xb, y1, 0), (xa, y1, 0),
                                  (xa, y0, top), (xb, y0, top), (xb, y1, top), (xa, y1, top)])
                    faces.append([[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5],
                                  [2, 3, 7, 6], [3, 0, 4, 7]])
                rep = run("geometry.add_mesh_representation", f, context=body, vertices=verts,
                          faces=faces)
                run("geometry.assign_representation", f, product=flight, representation=rep)
                place(flight, 0, 0, z)
                stair_el = run("root.create_entity", f, ifc_class="IfcStair",
                               name=f"stair {k + 1}F-{k + 2}F{tag}")
                place(stair_el, 0, 0, z)
                run("spatial.assign_container", f, relating_structure=st, products=[stair_el])
                run("aggregate.assign_object", f, relating_object=stair_el, products=[flight])
    f.write(str(path))
    return path
