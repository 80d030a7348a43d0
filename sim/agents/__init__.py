"""Crowd agents: struct-of-arrays state, population sampling, neighbour search, the model."""

from sim.agents.crowd import Crowd, State

__all__ = ["Crowd", "State"]
