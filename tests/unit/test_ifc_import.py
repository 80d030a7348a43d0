"""IFC import: storeys, slabs, walls with door openings, doors as exits, stairs, spaces as
rooms; both schemas; a storey cut off; bad files."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import shapely
from ifc_models import STAIR_X, house

from sim.drill import Drill
from sim.errors import ScenarioError
from sim.scenario import parse
from sim.scenes.ifc_import import import_ifc
from tools.cli import main


@pytest.mark.parametrize("schema, millimetres", [("IFC4", True), ("IFC2X3", False)])
def test_an_ifc_house_imports_with_its_storeys_doors_stair_and_rooms(
        tmp_path: Path, schema: str, millimetres: bool) -> None:
    r = import_ifc(house(tmp_path / "house.ifc", schema=schema, millimetres=millimetres))
    s = r.scene
    assert [(f.id, f.elevation) for f in s.floors] == [("1F", 0.0), ("2F", 3.0)]
    (e,) = s.exits  # the front door; the inner doors are not exits
    assert e.id == "Main door" and e.floor == 0 and e.width == pytest.approx(1.0)
    (st,) = s.stairs
    assert sorted(st.floors) == [0, 1] and st.width == pytest.approx(1.0, abs=0.05)
    assert 4.0 < st.length < 5.0  # 14 treads of 0.28 m over 3 m: 4.9 m of run and rise
    low = st.areas[st.floors.index(0)].centroid
    assert low.x < STAIR_X + 0.8
    # The inner wall's door is open: the floor is one room, the wall an obstacle.
    for f in s.floors:
        assert sum(p.area > 0.5 for p in shapely.get_parts(f.area)) == 1  # and slivers
        assert not f.area.contains(shapely.Point(3.9, 4.0))  # in the inner wall
        assert f.area.contains(shapely.Point(3.9, 2.65))  # in its door
    names = sorted(n for _, _, n in r.rooms)
    assert names == ["1F 东室", "1F 西室", "2F 东室", "2F 西室"]


def test_an_imported_ifc_house_evacuates_with_people_on_every_floor(tmp_path: Path) -> None:
    r = import_ifc(house(tmp_path / "house.ifc", storeys=3))
    sc = parse(tomllib.loads(r.to_toml()), source="<test>")
    assert {g.floor for g in sc.groups} == {0, 1, 2}
    assert {g.id for g in sc.groups} >= {"3F 西室", "3F 东室"}  # rooms named by the spaces
    drill = Drill(sc)
    while not drill.done():
        drill.step()
    assert drill.evacuated == drill.total > 0


def test_an_ifc_storey_cut_off_from_the_rest_is_refused_by_name(tmp_path: Path) -> None:
    r = import_ifc(house(tmp_path / "house.ifc", stair=False))
    assert not r.scene.stairs
    with pytest.raises(ScenarioError, match=r"floor 2F .*cannot reach an exit"):
        r.to_toml()


def test_without_spaces_each_walkable_piece_is_a_room(tmp_path: Path) -> None:
    r = import_ifc(house(tmp_path / "house.ifc", spaces=False))
    assert r.rooms is None
    sc = parse(tomllib.loads(r.to_toml()), source="<test>")
    assert {g.floor for g in sc.groups} == {0, 1}


def test_cli_imports_an_ifc_file(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    path = house(tmp_path / "house.ifc")
    assert main(["import", str(path), "--out", str(tmp_path / "h.toml"), "--preview",
                 str(tmp_path / "pv")]) == 0
    out = capsys.readouterr().out
    assert "exit Main door: IfcDoor in the outer wall" in out
    assert "wrote" in out and "2 floors, 1 exits, 1 stairs" in out
    assert len(list((tmp_path / "pv").glob("*.png"))) == 2


def _corrupt(path: Path) -> Path:
    path.write_text("ISO-10303-21;\nHEADER;\nthis is not IFC\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("make, message", [
    (_corrupt, "not a readable IFC file"),
    (lambda p: house(p, units=False), "declares no length unit"),
])
def test_bad_ifc_files_are_refused_in_one_line(tmp_path: Path, capsys, make,  # noqa: ANN001
                                               message: str) -> None:
    path = make(tmp_path / "bad.ifc")
    assert main(["import", str(path), "--out", str(tmp_path / "b.toml")]) == 2
    err = capsys.readouterr().err
    assert message in err and "bad.ifc" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_unsupported_ifc_schema_is_refused(tmp_path: Path) -> None:
    from ifcopenshell.api import run

    f = run("project.create_file", version="IFC4X3")
    run("root.create_entity", f, ifc_class="IfcProject", name="road")
    path = tmp_path / "road.ifc"
    f.write(str(path))
    with pytest.raises(ScenarioError, match="unsupported IFC schema 'IFC4X3'"):
        import_ifc(path)
