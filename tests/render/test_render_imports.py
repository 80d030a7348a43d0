"""Panda3D is loaded only when rendering: never by the simulation or the drill parser."""

from __future__ import annotations

import subprocess
import sys


def test_simulation_and_cli_parser_do_not_import_panda3d() -> None:
    code = ("import sys; from sim.drill import Drill; from sim.scenario import load; "
            "Drill(load('corridor')).step(); from tools.cli import _parser; "
            "_parser().parse_args(['render', 'office', '--out', 'x.png']); "
            "import render.cli, render.errors; "
            "print(sorted(m for m in sys.modules if m.startswith('panda3d')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"
