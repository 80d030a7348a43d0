"""The exit-choice functions of sim/exit_choice.py on small arrays."""

from __future__ import annotations

import numpy as np
import pytest

from sim.exit_choice import (
    LogitChoice,
    ThresholdChoice,
    exit_tastes,
    logit_choice,
    logit_probabilities,
    queue_ahead,
    quickest_cost,
    threshold_choice,
)

INF = np.inf
SCALE, INERTIA = 1.5, 4.0
MANY = 20_000


def _shares(cost: list[float], current: int, seed: int = 7) -> np.ndarray:
    """Share of MANY agents (own tastes each) choosing each exit at ``cost`` (s)."""
    c = np.tile(np.asarray(cost, float), (MANY, 1))
    taste = exit_tastes(seed, np.arange(MANY), c.shape[1])
    pick = logit_choice(c, np.full(MANY, current), taste, scale=SCALE, inertia=INERTIA)
    return np.bincount(pick, minlength=c.shape[1]) / MANY


def test_probabilities_sum_to_one_and_are_zero_for_closed_exits() -> None:
    rng = np.random.default_rng(3)
    cost = rng.uniform(1, 100, (50, 4))
    cost[rng.random((50, 4)) < 0.3] = INF
    cost[:, 0] = np.where(np.isinf(cost).all(axis=1), 5.0, cost[:, 0])
    current = rng.integers(-1, 4, 50)
    p = logit_probabilities(cost, current, scale=SCALE, inertia=INERTIA)
    assert p.shape == cost.shape
    assert np.allclose(p.sum(axis=1), 1.0)
    assert (p[np.isinf(cost)] == 0).all() and (p >= 0).all()


def test_no_open_exit_gives_no_probability_and_no_choice() -> None:
    cost = np.array([[INF, INF]])
    assert (logit_probabilities(cost, np.array([0]), scale=SCALE, inertia=INERTIA) == 0).all()
    taste = exit_tastes(1, np.array([0]), 2)
    assert logit_choice(cost, np.array([0]), taste, scale=SCALE, inertia=INERTIA)[0] == -1
    assert threshold_choice(cost, np.array([0]), margin=0.1, min_saving=1.0)[0] == -1


def test_a_much_better_exit_is_chosen_almost_always() -> None:
    p = logit_probabilities(np.array([[40.0, 10.0]]), np.array([-1]), scale=SCALE,
                            inertia=INERTIA)
    assert p[0, 1] > 0.999
    # Even against the inertia of heading for the worse one.
    assert _shares([40.0, 10.0], current=0)[1] > 0.99


def test_equal_exits_split_about_evenly() -> None:
    p = logit_probabilities(np.array([[20.0, 20.0]]), np.array([-1]), scale=SCALE,
                            inertia=INERTIA)
    assert np.allclose(p, 0.5)
    assert abs(_shares([20.0, 20.0], current=-1)[0] - 0.5) < 0.02


def test_inertia_keeps_the_current_exit_when_costs_are_equal() -> None:
    p = logit_probabilities(np.array([[20.0, 20.0]]), np.array([1]), scale=SCALE,
                            inertia=INERTIA)
    assert p[0, 1] == pytest.approx(1 / (1 + np.exp(-INERTIA)))
    assert _shares([20.0, 20.0], current=1)[1] > 0.97
    # A clearly better exit (by more than inertia * scale) wins over the current one.
    assert _shares([20.0, 20.0 - 3 * INERTIA * SCALE], current=0)[1] > 0.9


def test_choices_over_many_tastes_follow_the_logit_probabilities() -> None:
    cost, current = [30.0, 27.0, 33.0], 2
    p = logit_probabilities(np.array([cost]), np.array([current]), scale=SCALE,
                            inertia=INERTIA)[0]
    assert np.allclose(_shares(cost, current), p, atol=0.015)


def test_tastes_depend_on_the_seed_and_the_agent_alone() -> None:
    a = exit_tastes(5, np.array([3, 900, 5000]), 3)
    b = exit_tastes(5, np.arange(6000), 3)[[3, 900, 5000]]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, exit_tastes(6, np.array([3, 900, 5000]), 3))
    g = exit_tastes(5, np.arange(MANY), 2)
    assert abs(g.mean() - np.euler_gamma) < 0.03 and abs(g.std() - np.pi / 6**0.5) < 0.03


def test_threshold_rule_changes_only_for_a_saving_of_ten_percent_and_a_second() -> None:
    cost = np.array([[20.0, 18.5], [20.0, 17.9], [5.0, 4.1], [5.0, 3.9], [20.0, INF]])
    cur = np.array([0, 0, 0, 0, 1])
    assert threshold_choice(cost, cur, margin=0.1, min_saving=1.0).tolist() == [0, 1, 0, 1, 0]


def test_queue_ahead_counts_agents_with_a_shorter_route_to_the_same_exit() -> None:
    dist = np.array([[5.0, 8.0]])
    own = np.array([1.0, 4.0, 6.0, 2.0, 9.0])
    heading = np.array([0, 0, 0, 1, 1])
    assert queue_ahead(dist, own, heading).tolist() == [[2, 1]]


def test_quickest_cost_is_the_walk_or_the_queue_whichever_is_longer() -> None:
    cost = quickest_cost(np.array([[13.0, 4.0, INF]]), np.array([1.3]),
                         np.array([[2.0, 13.0, 0.0]]), np.array([1.3, 1.3, 2.6]))
    assert np.allclose(cost, [[10.0, 10.0, INF]])


@pytest.mark.parametrize("rule", [LogitChoice(scale=SCALE, inertia=INERTIA), ThresholdChoice()])
def test_rules_choose_the_same_for_the_same_agents_and_seed(
        rule: LogitChoice | ThresholdChoice) -> None:
    cost = np.random.default_rng(0).uniform(5, 30, (100, 3))
    args = dict(agents=np.arange(100), seed=11)
    first = rule.choose(cost, np.full(100, -1), **args)
    assert np.array_equal(first, rule.choose(cost, np.full(100, -1), **args))
    assert ((first >= 0) & (first < 3)).all()


def test_the_scale_grows_with_the_cost_so_long_evacuations_do_not_flip() -> None:
    """10 s is worth a switch in a room (20 s), not in a five-minute evacuation (200 s)."""
    rule = LogitChoice(scale=0.5, relative=0.05, inertia=3.0)
    agents = np.arange(MANY)

    def share_switching(cost: list[float]) -> float:
        c = np.tile(np.asarray(cost, float), (MANY, 1))
        return float(np.mean(rule.choose(c, np.zeros(MANY, int), agents=agents, seed=3) == 1))

    assert share_switching([20.0, 10.0]) > 0.9
    assert share_switching([200.0, 190.0]) < 0.15
