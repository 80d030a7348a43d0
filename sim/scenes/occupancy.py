"""Who is in an imported building: occupant density and pre-movement by occupancy type.

``drill import --occupancy TYPE`` fills each floor's rooms at the type's density (persons
per m² of walkable area) and gives everyone the type's pre-movement distribution (uniform
between two bounds). ``docs/import.md`` lists the values and where they come from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.errors import ScenarioError
from sim.scenes.mall import DENSITY as MALL_DENSITY
from sim.scenes.mall import PREMOVEMENT as MALL_PREMOVEMENT
from sim.scenes.school import PREMOVEMENT as SCHOOL_PREMOVEMENT

__all__ = ["OCCUPANCIES", "Occupancy", "occupancy"]


@dataclass(frozen=True)
class Occupancy:
    """Design population and pre-movement of one occupancy type."""

    name: str
    density: tuple[float, ...]
    """Persons per m² of walkable area on the 1st, 2nd, … storey above ground (the last value
    holds for every storey above)."""
    premovement: tuple[float, float]
    """Uniform pre-movement bounds, s."""
    source: str

    def density_on(self, storey: int) -> float:
        """Density on storey ``storey`` (0: the lowest floor), persons/m²."""
        return self.density[min(storey, len(self.density) - 1)]


OCCUPANCIES: dict[str, Occupancy] = {
    "office": Occupancy(
        "office", (0.1,), (30.0, 90.0),
        "10 m² per person (GB 50016 gives no office density; JGJ/T 67-2019 asks at least "
        "6 m² of office per person, corridors and services come on top); pre-movement of "
        "awake occupants familiar with the building, BS PD 7974-6 category A"),
    "school": Occupancy(
        "school", (0.35,), SCHOOL_PREMOVEMENT,
        "a secondary-school classroom gives 1.39 m² per pupil (GB 50099-2011 Table 7.1.1) on "
        "about half of a teaching floor: 0.35 per m²; pre-movement of classes that practise "
        "drills, as the school scene"),
    "mall": Occupancy(
        "mall", MALL_DENSITY, MALL_PREMOVEMENT,
        "GB 50016-2014 Table 5.5.21-2, lower values: 0.43 per m² on 1F and 2F, 0.39 on 3F, "
        "0.30 above; pre-movement of shoppers, as the mall scene"),
    "residential": Occupancy(
        "residential", (0.03,), (60.0, 300.0),
        "about three people per 100 m² flat (GB 50016 gives no residential density); "
        "pre-movement of residents at home, awake or not, BS PD 7974-6 category C"),
}
"""The occupancy types ``drill import --occupancy`` knows."""


def occupancy(name: str) -> Occupancy:
    """The occupancy type ``name``; raises :class:`ScenarioError` naming the known ones."""
    try:
        return OCCUPANCIES[name]
    except KeyError:
        known = ", ".join(OCCUPANCIES)
        raise ScenarioError(f"--occupancy: unknown type '{name}' (known: {known})") from None
