"""Scenes: floors, walls, exits and measuring lines; built-in generators and mesh import."""

from sim.scenes.model import Exit, Floor, Measure, Scene, SpeedZone, Stair

__all__ = ["Exit", "Floor", "Measure", "Scene", "SpeedZone", "Stair"]
