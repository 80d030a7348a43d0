"""Neighbour tables: layout, correctness against brute force, rebuilds, floors."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.neighbours import NeighbourList


def _crowd(n: int, size: float, seed: int, floors: int = 1):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, size, (n, 2))
    floor = rng.integers(0, floors, n).astype(np.int16)
    radius = rng.uniform(0.15, 0.3, n)
    return pos, floor, radius


def _true_neighbours(pos, floor, k, bound):
    """Brute force: per agent, the set of its k nearest others on its floor within bound."""
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    d[floor[:, None] != floor[None, :]] = np.inf
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1)[:, :k]
    return [set(o[d[i, o] <= bound].tolist()) for i, o in enumerate(order)], d


def _listed(index: np.ndarray, n: int) -> list[set[int]]:
    return [set(c[c < n].tolist()) for c in index.T]


# --------------------------------------------------------------------------- layout


def test_the_table_is_k_by_n_and_neighbour_major():
    pos, floor, radius = _crowd(200, 12.0, 0)
    nl = NeighbourList(k=7, cutoff=2.0, skin=0.6)
    idx = nl.update(pos, floor, radius)
    assert idx.shape == (7, 200)
    assert nl.reach.shape == (7, 200)
    assert idx.flags.c_contiguous
    # Row j holds every agent's j-th nearest neighbour: column i lists agent i's neighbours,
    # nearest first.
    _, d = _true_neighbours(pos, floor, 7, 2.6)
    nearest = np.argmin(d, axis=1)
    has = d[np.arange(200), nearest] <= 2.6
    assert np.array_equal(idx[0][has], nearest[has])
    cols = np.arange(200)
    dist_rows = np.where(idx < 200, d[cols[None, :], np.minimum(idx, 199)], 1e9)
    assert np.all(np.diff(dist_rows, axis=0) >= 0)


def test_no_agent_is_its_own_neighbour():
    pos, floor, radius = _crowd(300, 10.0, 1)
    idx = NeighbourList(k=12, cutoff=2.0, skin=0.6).update(pos, floor, radius)
    assert not np.any(idx == np.arange(300)[None, :])


def test_coincident_agents_list_each_other_not_themselves():
    pos = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [5.0, 5.0]])
    idx = NeighbourList(k=4).update(pos, np.zeros(4, np.int16), np.full(4, 0.2))
    for i in range(3):
        assert i not in idx[:, i]
        assert set(idx[:, i].tolist()) - {4} == {0, 1, 2} - {i}


@pytest.mark.parametrize(("k", "cutoff", "skin", "size"), [
    (12, 2.0, 0.6, 10.0),   # dense: more than k within cutoff + skin
    (6, 1.0, 0.3, 30.0),    # sparse: many agents with fewer than k in range
    (3, 2.0, 0.0, 15.0),
])
def test_listed_neighbours_are_the_true_k_nearest_within_cutoff_plus_skin(k, cutoff, skin, size):
    pos, floor, radius = _crowd(400, size, 2)
    idx = NeighbourList(k=k, cutoff=cutoff, skin=skin).update(pos, floor, radius)
    truth, _ = _true_neighbours(pos, floor, k, cutoff + skin)
    listed = _listed(idx, 400)
    assert listed == truth
    # Missing slots are marked with n, and only missing slots.
    assert np.all((idx < 400).sum(axis=0) == [len(t) for t in truth])
    assert np.all((idx >= 0) & (idx <= 400))


def test_reach_is_the_sum_of_the_two_radii_and_own_radius_for_missing_slots():
    pos, floor, radius = _crowd(150, 25.0, 3)
    nl = NeighbourList(k=8, cutoff=1.0, skin=0.4)
    idx = nl.update(pos, floor, radius)
    assert np.any(idx == 150) and np.any(idx < 150)
    other = np.where(idx < 150, radius[np.minimum(idx, 149)], 0.0)
    np.testing.assert_allclose(nl.reach, radius[None, :] + other, rtol=1e-6)
    assert nl.reach.dtype == np.float32


def test_small_crowds_are_padded_with_the_missing_marker():
    nl = NeighbourList(k=5)
    idx = nl.update(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), np.zeros(3, np.int16),
                    np.full(3, 0.2))
    assert idx.shape == (5, 3)
    assert _listed(idx, 3) == [{1, 2}, {0, 2}, {0, 1}]
    assert np.all(idx[2:] == 3)
    lone = NeighbourList(k=5).update(np.zeros((1, 2)), np.zeros(1, np.int16), np.full(1, 0.2))
    assert lone.shape == (5, 1) and np.all(lone == 1)
    empty = NeighbourList(k=5).update(np.zeros((0, 2)), np.zeros(0, np.int16), np.zeros(0))
    assert empty.shape == (5, 0)


# --------------------------------------------------------------------------- rebuilds


def test_no_rebuild_while_every_agent_moved_less_than_half_the_skin():
    pos, floor, radius = _crowd(200, 10.0, 4)
    nl = NeighbourList(k=8, cutoff=2.0, skin=0.6)
    first = nl.update(pos, floor, radius)
    assert nl.builds == 1
    rng = np.random.default_rng(0)
    moved = pos.copy()
    for _ in range(5):
        step = rng.normal(size=pos.shape)
        step *= 0.29 / np.hypot(step[:, 0], step[:, 1])[:, None] * rng.uniform(0, 1, (200, 1))
        moved = pos + step  # displacement from the build positions stays below 0.29
        again = nl.update(moved, floor, radius)
        assert again is first
        assert not nl.stale(moved)
    assert nl.builds == 1


def test_a_move_of_more_than_half_the_skin_rebuilds():
    pos, floor, radius = _crowd(200, 10.0, 5)
    nl = NeighbourList(k=8, cutoff=2.0, skin=0.6)
    nl.update(pos, floor, radius)
    moved = pos.copy()
    moved[17] += [0.0, 0.31]
    assert nl.stale(moved)
    idx = nl.update(moved, floor, radius)
    assert nl.builds == 2
    truth, _ = _true_neighbours(moved, floor, 8, 2.6)
    assert _listed(idx, 200) == truth


def test_small_moves_that_add_up_past_half_the_skin_rebuild():
    pos, floor, radius = _crowd(100, 10.0, 6)
    nl = NeighbourList(k=8, cutoff=2.0, skin=0.6)
    nl.update(pos, floor, radius)
    p = pos.copy()
    for _ in range(3):  # 0.2 m, 0.4 m: reuse; 0.6 m from the build positions: rebuild
        p = p.copy()
        p[3] += [0.2, 0.0]
        nl.update(p, floor, radius)
    assert nl.builds == 2


def test_a_change_in_the_number_of_agents_or_invalidate_rebuilds():
    pos, floor, radius = _crowd(100, 10.0, 7)
    nl = NeighbourList(k=8)
    nl.update(pos, floor, radius)
    idx = nl.update(pos[:90], floor[:90], radius[:90])
    assert nl.builds == 2 and idx.shape == (8, 90)
    assert idx.max() <= 90
    nl.invalidate()
    nl.update(pos[:90], floor[:90], radius[:90])
    assert nl.builds == 3


def test_a_reused_table_still_lists_everyone_within_cutoff():
    # The skin guarantee: after moves below skin/2, anyone within cutoff now is listed
    # (when fewer than k agents were within cutoff + skin at build time).
    pos, floor, radius = _crowd(150, 20.0, 8)
    nl = NeighbourList(k=30, cutoff=1.5, skin=0.6)
    nl.update(pos, floor, radius)
    rng = np.random.default_rng(1)
    step = rng.normal(size=pos.shape)
    step *= 0.29 / np.hypot(step[:, 0], step[:, 1])[:, None]
    moved = pos + step
    idx = nl.update(moved, floor, radius)
    assert nl.builds == 1
    _, d = _true_neighbours(moved, floor, 150, np.inf)
    listed = _listed(idx, 150)
    for i in range(150):
        assert set(np.flatnonzero(d[i] <= 1.5).tolist()) <= listed[i]


# --------------------------------------------------------------------------- floors


def test_agents_on_different_floors_are_never_neighbours():
    pos, floor, radius = _crowd(300, 8.0, 9, floors=3)
    idx = NeighbourList(k=12, cutoff=2.0, skin=0.6).update(pos, floor, radius)
    ok = idx < 300
    own = np.broadcast_to(floor[None, :], idx.shape)
    assert np.all(floor[idx[ok]] == own[ok])
    truth, _ = _true_neighbours(pos, floor, 12, 2.6)
    assert _listed(idx, 300) == truth


def test_agents_at_the_same_spot_on_different_floors_are_not_neighbours():
    pos = np.array([[2.0, 2.0], [2.0, 2.0], [2.5, 2.0]])
    floor = np.array([0, 1, 1], np.int16)
    idx = NeighbourList(k=3).update(pos, floor, np.full(3, 0.2))
    assert _listed(idx, 3) == [set(), {2}, {1}]
