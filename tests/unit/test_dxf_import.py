"""DXF import: one plan per storey, layers by role (Chinese names by default), doors on
the outline as exits, stairs from outlines on two storeys; bad plans."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import shapely
from dxf_plans import house, plan

from sim.drill import Drill
from sim.errors import ScenarioError
from sim.scenario import parse
from sim.scenes.dxf_import import import_dxf, parse_layers
from tools.cli import main


def test_dxf_plans_import_with_walls_doors_exits_and_a_stair(tmp_path: Path) -> None:
    r = import_dxf(house(tmp_path))
    s = r.scene
    assert [(f.id, f.elevation) for f in s.floors] == [("1F", 0.0), ("2F", 3.0)]
    (e,) = s.exits
    assert e.floor == 0 and e.width == pytest.approx(1.2, abs=0.01)
    assert e.polygon.centroid.y < 0.5  # in the door gap, not the leaf's swing
    (st,) = s.stairs
    assert st.width == pytest.approx(1.25, abs=0.01) and sorted(st.floors) == [0, 1]
    for f in s.floors:
        assert not f.area.contains(shapely.Point(6.0, 6.0))  # the inner wall
        assert f.area.contains(shapely.Point(6.0, 3.45))  # its door
        assert not f.area.contains(shapely.Point(10.0, 6.0))  # the stair's flights
        assert sum(p.area > 0.5 for p in shapely.get_parts(f.area)) == 1


def test_imported_dxf_house_evacuates_with_people_on_every_floor(tmp_path: Path) -> None:
    sc = parse(tomllib.loads(import_dxf(house(tmp_path, storeys=3)).to_toml()),
               source="<test>")
    assert {g.floor for g in sc.groups} == {0, 1, 2}
    drill = Drill(sc)
    while not drill.done():
        drill.step()
    assert drill.evacuated == drill.total > 0


def test_layers_can_be_named(tmp_path: Path) -> None:
    paths = house(tmp_path, layers=("A-WALL-EXT", "A-DOOR", "S-STAIR"))
    with pytest.raises(ScenarioError, match="no walls.*layers in the file: .*A-WALL-EXT"):
        import_dxf(paths, layers=parse_layers("walls=墙"))
    r = import_dxf(paths, layers=parse_layers("walls=a-wall;doors=a-door;stairs=s-stair"))
    assert len(r.scene.stairs) == 1 and len(r.scene.exits) == 1


def test_a_storey_without_its_stair_is_refused_by_name(tmp_path: Path) -> None:
    paths = [plan(tmp_path / "1F.dxf", ground=True, stair=False),
             plan(tmp_path / "2F.dxf", ground=False, stair=False)]
    r = import_dxf(paths)
    with pytest.raises(ScenarioError, match=r"floor 2F .*cannot reach an exit"):
        r.to_toml()


@pytest.mark.parametrize("setup, message", [
    (lambda p: [plan(p / "a.dxf", ground=True, insunits=0)], "units missing"),
    (lambda p: [plan(p / "a.dxf", ground=True, layers=("W", "D", "S"))], "no walls"),
    (lambda p: [(p / "a.dxf").write_text("0\nSECTION\nnonsense\n") and p / "a.dxf"],
     "not a readable DXF file"),
])
def test_bad_plans_are_refused_in_one_line(tmp_path: Path, capsys, setup,  # noqa: ANN001
                                           message: str) -> None:
    paths = setup(tmp_path)
    assert main(["import", *map(str, paths), "--out", str(tmp_path / "x.toml")]) == 2
    err = capsys.readouterr().err
    assert message in err and "a.dxf" in err and len(err.strip().splitlines()) == 1


def test_cli_imports_plans_one_per_storey(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    paths = house(tmp_path)
    assert main(["import", *map(str, paths), "--out", str(tmp_path / "h.toml"),
                 "--storey-height", "3.3", "--preview", str(tmp_path / "pv")]) == 0
    assert "2 floors, 1 exits, 1 stairs" in capsys.readouterr().out
    sc = parse(tomllib.loads((tmp_path / "h.toml").read_text(encoding="utf-8")), source="x")
    assert [f.elevation for f in sc.scene.floors] == [0.0, 3.3]
    assert main(["import", *map(str, paths), "--out", str(tmp_path / "h.toml"),
                 "--layers", "roofs=x"]) == 2


def test_one_file_with_a_block_per_storey_imports(tmp_path: Path) -> None:
    from dxf_plans import blocks

    r = import_dxf([blocks(tmp_path / "plans.dxf")])
    assert [f.id for f in r.scene.floors] == ["一层", "二层", "三层"]
    assert [f.elevation for f in r.scene.floors] == [0.0, 3.0, 6.0]
    assert len(r.scene.stairs) == 2 and len(r.scene.exits) == 1
    sc = parse(tomllib.loads(r.to_toml()), source="<test>")
    assert {g.floor for g in sc.groups} == {0, 1, 2}


@pytest.mark.parametrize("name, number", [("1F", 1), ("F12", 12), ("L3", 3), ("2层", 2),
                                          ("十二层", 12), ("B1", -1), ("地下2层", -2),
                                          ("roof", None), ("DOOR_A", None)])
def test_storey_names_of_blocks(name: str, number: int | None) -> None:
    from sim.scenes.dxf_import import storey_number

    assert storey_number(name) == number
