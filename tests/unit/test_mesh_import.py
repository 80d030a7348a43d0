"""Mesh import: the sample meshes, units and axes, exits by each rule, and bad input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import shapely
import trimesh

from sim.drill import Drill
from sim.errors import ScenarioError
from sim.scenario import load_file, parse
from sim.scenes.mesh_geometry import section_area, section_segments
from sim.scenes.mesh_import import import_mesh, parse_exit_spec
from tools.cli import main

MESHES = Path(__file__).resolve().parents[2] / "assets" / "meshes"


def _box(x0, y0, z0, x1, y1, z1):  # noqa: ANN001, ANN202
    return trimesh.creation.box(bounds=[[x0, y0, z0], [x1, y1, z1]])


def _write(mesh, path: Path) -> Path:  # noqa: ANN001
    data = mesh.export(file_type=path.suffix.lstrip("."))
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _closed_room(tmp_path: Path, scale: float = 1.0, name: str = "room.stl") -> Path:
    """A 10 m x 8 m room on a slab, 3 m walls all round, no door, no names."""
    parts = [_box(0, 0, -0.2, 10, 8, 0), _box(0, 0, 0, 10, 0.2, 3), _box(0, 7.8, 0, 10, 8, 3),
             _box(0, 0.2, 0, 0.2, 7.8, 3), _box(9.8, 0.2, 0, 10, 7.8, 3)]
    mesh = trimesh.util.concatenate(parts)
    mesh.apply_scale(scale)
    return _write(mesh, tmp_path / name)


def test_office_sample_has_two_floors_a_stair_and_named_exits() -> None:
    r = import_mesh(MESHES / "office_two_storey.glb")
    s = r.scene
    assert [f.elevation for f in s.floors] == pytest.approx([0.0, 3.5])
    assert sorted(e.id for e in s.exits) == ["EXIT_Main", "出口_East"]
    assert all(e.floor == 0 for e in s.exits)
    assert len(s.stairs) == 1
    st = s.stairs[0]
    assert sorted(st.floors) == [0, 1]
    assert st.width == pytest.approx(1.2, abs=0.1)
    assert 5.0 < st.length < 7.5  # 20 risers of 0.175 m on 0.28 m treads: 6.4 m
    assert any("roof" in f.rule for f in r.findings)
    rules = {f.id: f.rule for f in r.findings if f.kind == "exit"}
    assert rules["EXIT_Main"].startswith("named")


def test_imported_office_scenario_loads_and_evacuates(tmp_path: Path) -> None:
    r = import_mesh(MESHES / "office_two_storey.glb")
    path = tmp_path / "office.toml"
    path.write_text(r.to_toml(density=0.1), encoding="utf-8")
    sc = load_file(path)
    drill = Drill(sc)
    while not drill.done():
        drill.step()
    assert drill.evacuated == drill.total > 0
    upstairs = [g for g in sc.groups if g.floor == 1]
    assert upstairs, "people are placed on the upper floor too"


def test_obj_in_millimetres_is_detected_and_its_doors_become_exits() -> None:
    r = import_mesh(MESHES / "shop_mm.obj")
    assert any(n.startswith("units mm") for n in r.notes)
    assert any(n.startswith("up axis z") for n in r.notes)
    widths = sorted(e.width for e in r.scene.exits)
    assert widths == pytest.approx([1.0, 1.6], abs=0.05)
    assert all(e.id.startswith("opening-") for e in r.scene.exits)
    f = r.scene.floors[0]
    assert 3 <= f.walkable.bounds[2] - f.walkable.bounds[0] <= 16  # 15 m, not 15 000
    # four shelving units and the counter are obstacles (besides the walls)
    assert len(f.obstacles) >= 5


def test_stl_in_centimetres_with_one_door() -> None:
    r = import_mesh(MESHES / "hall_cm.stl")
    assert any(n.startswith("units cm") for n in r.notes)
    (e,) = r.scene.exits
    assert e.width == pytest.approx(2.0, abs=0.05)
    assert r.scene.floors[0].area.area == pytest.approx(29.4 * 19.4 - 3 * 0.36, rel=0.01)


def test_given_units_that_make_a_3000_m_storey_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"3000 m.*not a storey.*--units mm"):
        import_mesh(MESHES / "shop_mm.obj", units="m")


def test_up_axis_override_is_used(tmp_path: Path) -> None:
    room = trimesh.util.concatenate([_box(0, 0, -0.2, 10, 8, 0), _box(0, 0, 0, 10, 0.2, 3)])
    room.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, (1, 0, 0)))
    path = _write(room, tmp_path / "yup.stl")
    r = import_mesh(path, up="y", exits=[parse_exit_spec("E:5,4,0")])
    assert r.scene.floors[0].walkable.area == pytest.approx(80, rel=0.01)


def test_exit_given_by_point_is_placed_on_that_floor(tmp_path: Path) -> None:
    r = import_mesh(_closed_room(tmp_path), exits=[parse_exit_spec("Door 1:5,0.5,1F")])
    (e,) = r.scene.exits
    assert e.id == "Door 1" and e.floor == 0
    assert e.polygon.centroid.x == pytest.approx(5.0)
    assert [f.rule for f in r.findings if f.kind == "exit"] == ["--exit"]


def test_room_without_doors_or_names_has_no_exit(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no exit found: name a node EXIT_1.*--exit"):
        import_mesh(_closed_room(tmp_path))


@pytest.mark.parametrize("spec, message", [
    ("E1:1,2", "expected ID:x,y,floor"),
    ("E1:a,2,0", "must be numbers"),
    (":1,2,0", "expected ID:x,y,floor"),
])
def test_malformed_exit_spec_is_refused(spec: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_exit_spec(spec)


def test_exit_on_unknown_floor_or_far_outside_is_refused(tmp_path: Path) -> None:
    path = _closed_room(tmp_path)
    with pytest.raises(ScenarioError, match="no floor '7F'"):
        import_mesh(path, exits=[parse_exit_spec("E:5,4,7F")])
    with pytest.raises(ScenarioError, match="outside the walkable area"):
        import_mesh(path, exits=[parse_exit_spec("E:50,40,0")])


def test_mesh_without_a_floor_is_refused(tmp_path: Path) -> None:
    path = _write(_box(0, 0, 0, 1, 1, 3), tmp_path / "pillar.stl")
    with pytest.raises(ScenarioError, match="no floor found"):
        import_mesh(path)


@pytest.mark.parametrize("name, content, message", [
    ("empty.obj", b"", "the file is empty"),
    ("notes.obj", b"this is not a mesh\n", "no triangles found"),
    ("broken.glb", b"glTF garbage that is not a real binary gltf", "not a readable .glb"),
    ("model.fbx", b"binary", "unsupported format '.fbx'"),
])
def test_unreadable_files_are_refused_with_the_reason(tmp_path: Path, name: str, content: bytes,
                                                      message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match=message) as err:
        import_mesh(path)
    assert str(path) in str(err.value)


def test_section_of_touching_boxes_is_their_union_and_the_room_stays_open() -> None:
    walls = trimesh.util.concatenate([
        _box(0, 0, 0, 10, 0.2, 3), _box(0, 7.8, 0, 10, 8, 3),
        _box(0, 0.2, 0, 0.2, 7.8, 3), _box(9.8, 0.2, 0, 10, 7.8, 3)])
    tris = walls.vertices[walls.faces]
    seg, _ = section_segments(tris, 1.0)
    solid = section_area(seg, 0.1)
    assert solid.area == pytest.approx(2 * 10 * 0.2 + 2 * 7.6 * 0.2, rel=1e-6)
    assert not solid.contains(shapely.Point(5, 4))


def test_single_sided_wall_becomes_a_thin_obstacle() -> None:
    quad = np.array([[[0, 0, 0], [5, 0, 0], [5, 0, 3]], [[0, 0, 0], [5, 0, 3], [0, 0, 3]]],
                    float)
    seg, _ = section_segments(quad, 1.0)
    solid = section_area(seg, 0.1, np.ones(len(seg), bool))
    assert solid.area == pytest.approx(5.1 * 0.1, rel=0.05)


def test_cli_import_writes_scenario_and_previews(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "office.toml"
    rc = main(["import", str(MESHES / "office_two_storey.glb"), "--out", str(out),
               "--preview", str(tmp_path / "preview")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "named 'EXIT_Main'" in text and "assumed units m" in text
    parse(tomllib.loads(out.read_text(encoding="utf-8")))
    pngs = sorted((tmp_path / "preview").glob("*.png"))
    assert len(pngs) == 2 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)


@pytest.mark.parametrize("args, message", [
    (["missing.glb"], "no such file"),
    (["{room}", "--exit", "E:1,2"], "expected ID:x,y,floor"),
    (["{room}"], "no exit found"),
    (["{room}", "--units", "mm"], "not a storey"),
])
def test_cli_import_bad_input_exits_2_with_one_line(tmp_path: Path, capsys, args: list[str],
                                                    message: str) -> None:  # noqa: ANN001
    room = str(_closed_room(tmp_path))
    argv = ["import", *[a.replace("{room}", room) for a in args],
            "--out", str(tmp_path / "x.toml")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def _room_with_door(tmp_path: Path, name: str) -> Path:
    """A 10 m x 8 m room with a 1.2 m door in its west wall, z-up, metres."""
    parts = [_box(0, 0, -0.2, 10, 8, 0), _box(0, 0, 0, 10, 0.2, 3), _box(0, 7.8, 0, 10, 8, 3),
             _box(0, 0.2, 0, 0.2, 3.4, 3), _box(0, 4.6, 0, 0.2, 7.8, 3),
             _box(9.8, 0.2, 0, 10, 7.8, 3)]
    return _write(trimesh.util.concatenate(parts), tmp_path / name)


@pytest.mark.parametrize("name", ["room.ply", "room.off", "room.obj", "room.glb"])
def test_every_supported_format_imports(tmp_path: Path, name: str) -> None:
    r = import_mesh(_room_with_door(tmp_path, name), up="z")
    (e,) = r.scene.exits
    assert e.width == pytest.approx(1.2, abs=0.02)
    assert r.scene.floors[0].area.area == pytest.approx(9.6 * 7.6, rel=0.01)


def test_exit_found_by_material_name(tmp_path: Path) -> None:
    from trimesh.visual.material import PBRMaterial
    from trimesh.visual.texture import TextureVisuals

    room = trimesh.util.concatenate([_box(0, 0, -0.2, 10, 8, 0), _box(0, 0, 0, 10, 0.2, 3)])
    pad = _box(4, 0.2, 0, 5, 0.6, 0.02)
    pad.visual = TextureVisuals(material=PBRMaterial(name="EXIT_door"))
    sc = trimesh.Scene()
    sc.add_geometry(room, node_name="Object_1")
    sc.add_geometry(pad, node_name="Object_2")
    path = tmp_path / "m.glb"
    path.write_bytes(sc.export(file_type="glb"))
    r = import_mesh(path, up="z")
    (e,) = r.scene.exits
    assert e.id == "EXIT_door"


# --------------------------------------------------------------------- issue 16: no floor lost


def test_an_exit_given_by_point_adds_to_the_doors_found(tmp_path: Path) -> None:
    path = _room_with_door(tmp_path, "room.stl")
    r = import_mesh(path, up="z", exits=[parse_exit_spec("window:9.5,4,1F")])
    assert sorted(e.id for e in r.scene.exits) == ["opening-1", "window"]
    only = import_mesh(path, up="z", exits=[parse_exit_spec("window:9.5,4,1F")],
                       only_exits=True)
    assert [e.id for e in only.scene.exits] == ["window"]


def test_an_exit_given_on_a_door_takes_the_doors_place(tmp_path: Path) -> None:
    r = import_mesh(_room_with_door(tmp_path, "room.stl"), up="z",
                    exits=[parse_exit_spec("main:-0.3,4,1F")])  # just outside the door
    (e,) = r.scene.exits
    assert e.id == "main" and e.width == pytest.approx(1.2, abs=0.02)
    assert "matched to the door opening" in next(f.rule for f in r.findings if f.id == "main")


def test_an_exit_marker_just_outside_the_door_is_matched_to_it(tmp_path: Path) -> None:
    room = trimesh.load(_room_with_door(tmp_path, "room.stl"))
    sc = trimesh.Scene()
    sc.add_geometry(room, node_name="building")
    sc.add_geometry(_box(-0.9, 3.6, 0, -0.4, 4.4, 0.02), node_name="EXIT_west")  # outside
    path = tmp_path / "marker.glb"
    path.write_bytes(sc.export(file_type="glb"))
    r = import_mesh(path, up="z")
    (e,) = r.scene.exits
    assert e.id == "EXIT_west" and e.width == pytest.approx(1.2, abs=0.02)
    assert shapely.intersection(e.polygon, r.scene.floors[0].area).area > 0.1


def test_a_wrong_up_axis_gets_a_hint(tmp_path: Path) -> None:
    r = import_mesh(_room_with_door(tmp_path, "room.stl"), up="y")  # walls taken for floors
    assert any(f.kind == "warning" and "read y-up" in f.rule and "try --up z" in f.rule
               for f in r.findings)
    assert "try --up z" in r.report()
    assert not any(f.id == "up axis" for f in import_mesh(
        _room_with_door(tmp_path, "room2.stl"), up="z").findings)


def _two_storeys_without_stair(tmp_path: Path) -> Path:
    """The room with a door, and above it a walled upper floor that no stair reaches."""
    ground = trimesh.load(_room_with_door(tmp_path, "ground.stl"))
    upper = [_box(0, 0, 3.3, 10, 8, 3.5), _box(0, 0, 3.5, 10, 0.2, 6.5),
             _box(0, 7.8, 3.5, 10, 8, 6.5), _box(0, 0.2, 3.5, 0.2, 7.8, 6.5),
             _box(9.8, 0.2, 3.5, 10, 7.8, 6.5)]
    return _write(trimesh.util.concatenate([ground, *upper]), tmp_path / "house.stl")


def test_a_floor_nobody_can_leave_is_refused_with_its_name_and_the_fix(tmp_path: Path) -> None:
    r = import_mesh(_two_storeys_without_stair(tmp_path), up="z")
    assert [f.id for f in r.scene.floors] == ["1F", "2F"]
    with pytest.raises(ScenarioError, match=r"floor 2F \(z=3.5 m.*cannot reach an exit: no "
                                            r"stair links it.*stair_.*--exit ID:x,y,2F"):
        r.to_toml()


def test_cli_refusing_a_lost_floor_still_writes_the_previews(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    path = _two_storeys_without_stair(tmp_path)
    code = main(["import", str(path), "--up", "z", "--out", str(tmp_path / "h.toml"),
                 "--preview", str(tmp_path / "pv")])
    assert code == 2
    assert "floor 2F" in capsys.readouterr().err
    assert len(list((tmp_path / "pv").glob("*.png"))) == 2
    assert not (tmp_path / "h.toml").exists()


@pytest.mark.parametrize("occupancy, density, pre", [("office", 0.1, (30, 90)),
                                                     ("mall", 0.43, (30, 120)),
                                                     ("school", 0.35, (10, 60))])
def test_imported_people_follow_the_occupancy_type(tmp_path: Path, occupancy: str,
                                                   density: float, pre: tuple) -> None:
    r = import_mesh(_room_with_door(tmp_path, "room.stl"), up="z")
    sc = parse(tomllib.loads(r.to_toml(occupancy=occupancy)), source="<test>")
    area = r.scene.floors[0].area.area
    assert sum(g.count for g in sc.groups) == pytest.approx(area * density, abs=1)
    assert {(g.premovement_min, g.premovement_max) for g in sc.groups} == {pre}


def test_unknown_occupancy_is_refused(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as ex:
        main(["import", str(_room_with_door(tmp_path, "room.stl")), "--out",
              str(tmp_path / "r.toml"), "--occupancy", "stadium"])
    assert ex.value.code == 2
    assert "invalid choice: 'stadium'" in capsys.readouterr().err


def _house(tmp_path: Path, name: str, stair_node: str = "steps") -> Path:
    """Two storeys 3 m apart in centimetres: three door gaps on the ground floor and a
    straight stair of 14 solid steps (each a box from the floor up), 1.0 m wide, running
    from x = 5 to 8.92 m up through a hole in the upper slab."""
    h, n, tread = 3.0, 14, 0.28
    parts = [_box(0, 0, -0.2, 10, 8, 0),
             _box(0, 0, 0, 2, 0.2, h), _box(3.2, 0, 0, 6, 0.2, h), _box(7.2, 0, 0, 10, 0.2, h),
             _box(0, 7.8, 0, 4, 8, h), _box(5.2, 7.8, 0, 10, 8, h),
             _box(0, 0.2, 0, 0.2, 7.8, h), _box(9.8, 0.2, 0, 10, 7.8, h),
             _box(0, 0, h - 0.2, 10, 5.8, h), _box(0, 6.8, h - 0.2, 10, 8, h),
             _box(0, 5.8, h - 0.2, 5, 6.8, h), _box(5 + n * tread, 5.8, h - 0.2, 10, 6.8, h),
             _box(0, 0, h, 10, 0.2, 2 * h), _box(0, 7.8, h, 10, 8, 2 * h),
             _box(0, 0.2, h, 0.2, 7.8, 2 * h), _box(9.8, 0.2, h, 10, 7.8, 2 * h)]
    steps = [_box(5 + k * tread, 5.8, 0, 5 + (k + 1) * tread, 6.8, (k + 1) * h / n)
             for k in range(n)]
    sc = trimesh.Scene()
    sc.add_geometry(trimesh.util.concatenate(parts), node_name="house")
    sc.add_geometry(trimesh.util.concatenate(steps), node_name=stair_node)
    sc.apply_scale(100.0)
    path = tmp_path / name
    data = sc.export(file_type=path.suffix.lstrip("."))
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("name, node", [("house.obj", "steps"), ("house.glb", "stair_main"),
                                        ("house2.glb", "steps")])
def test_a_stair_of_solid_steps_is_found_with_its_width_and_ends(tmp_path: Path, name: str,
                                                                 node: str) -> None:
    r = import_mesh(_house(tmp_path, name, node), up="z")
    assert [f.id for f in r.scene.floors] == ["1F", "2F"]
    (st,) = r.scene.stairs
    assert st.width == pytest.approx(1.0, abs=0.1)
    low = st.areas[st.floors.index(0)].centroid
    high = st.areas[st.floors.index(1)].centroid
    assert low.x < 5.8 and high.x > 8.0  # at the first step and the top of the flight
    sc = parse(tomllib.loads(r.to_toml()), source="<test>")
    assert {g.floor for g in sc.groups} == {0, 1}  # people on both floors
    assert len(r.scene.exits) == 3


def test_stair_ends_sharing_a_landing_are_cut_apart() -> None:
    from sim.scenes.mesh_import import _split_shared_ends, _StairDraft

    # A dog-leg at 2F: the flight from 1F arrives at (5, 1.3), the next one leaves (5, 0).
    below = _StairDraft("a", 0, 1, np.array([9.0, 1.3]), np.array([5.0, 1.3]), 1.3, 7.0,
                        "stair", "t")
    above = _StairDraft("b", 1, 2, np.array([5.0, 0.0]), np.array([9.0, 0.0]), 1.3, 7.0,
                        "stair", "t")
    sq = _split_shared_ends([below, above])
    arrive, leave = sq[0, 0], sq[1, 1]  # (draft, end): end 0 upper, end 1 lower
    assert arrive.intersection(leave).area < 1e-9
    assert arrive.contains(shapely.Point(5.0, 1.3)) and leave.contains(shapely.Point(5.0, 0.0))
    assert sq[0, 1].area == pytest.approx(1.3 ** 2)  # ends on other floors are untouched
