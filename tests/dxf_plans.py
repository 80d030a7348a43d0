"""DXF plans for the tests, drawn with ezdxf: one file per storey of a 12 m x 8 m house
(millimetres), walls on layer 墙 with door gaps, door symbols on 门, a dog-leg stair
outline on 楼梯."""

from __future__ import annotations

from pathlib import Path

STAIR = (8000, 5000, 12000, 7500)
"""The stair outline (x0, y0, x1, y1), mm: 4 m of flights, two 1.25 m flights side by side."""


def draw(m, *, ground: bool, layers: tuple[str, str, str] = ("墙", "门", "楼梯"),  # noqa: ANN001
         stair: bool = True) -> None:
    """Draw one storey into ``m`` (a model space or a block): outer walls as lines (a 1.2 m
    front door gap on the ground storey, x 2-3.2 m at y = 0), an inner wall at x = 6 m with
    a 0.9 m door, the stair outline."""
    wall, door, stair_layer = layers

    def line(a, b, layer=wall) -> None:  # noqa: ANN001
        m.add_line(a, b, dxfattribs={"layer": layer})

    if ground:
        line((0, 0), (2000, 0))
        line((3200, 0), (12000, 0))
        line((2000, 0), (3200, 0), door)  # the leaf, closed
        m.add_arc((2000, 0), 1200, 0, 90, dxfattribs={"layer": door})
    else:
        line((0, 0), (12000, 0))
    line((12000, 0), (12000, 8000))
    line((12000, 8000), (0, 8000))
    line((0, 8000), (0, 0))
    line((6000, 0), (6000, 3000))
    line((6000, 3900), (6000, 8000))
    line((6000, 3000), (6000, 3900), door)
    if stair:
        x0, y0, x1, y1 = STAIR
        m.add_lwpolyline([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], close=True,
                         dxfattribs={"layer": stair_layer})


def plan(path: Path, *, ground: bool, layers: tuple[str, str, str] = ("墙", "门", "楼梯"),
         insunits: int = 4, stair: bool = True) -> Path:
    """One storey's plan (:func:`draw`) in the model space of its own file."""
    import ezdxf

    doc = ezdxf.new(units=insunits)
    for name in layers:
        doc.layers.add(name)
    draw(doc.modelspace(), ground=ground, layers=layers, stair=stair)
    doc.saveas(str(path))
    return path


def blocks(path: Path, names: tuple[str, ...] = ("一层", "二层", "三层")) -> Path:
    """One file holding each storey as a block named after it (the first the ground)."""
    import ezdxf

    doc = ezdxf.new(units=4)
    for k, name in enumerate(names):
        draw(doc.blocks.new(name=name), ground=k == 0)
    doc.modelspace().add_text("plans in blocks", dxfattribs={"layer": "0"})
    doc.saveas(str(path))
    return path


def house(tmp: Path, storeys: int = 2, **kw) -> list[Path]:  # noqa: ANN003
    """The plans of a house of ``storeys`` storeys, lowest first."""
    return [plan(tmp / f"{k + 1}F.dxf", ground=k == 0, **kw) for k in range(storeys)]
