"""The no-limit hold'em betting abstraction (holdem_lab.games.betting) against the exact rules.

The main check enumerates the abstract game a second time, from scratch, on top of
holdem_lab.rules.HandState: the size menu is applied to the rules' own pot, bets, call amount and
minimum raise, and the resulting node counts must equal the tree's. A parallel walk then proves
every edge of the tree is a legal HandState action with the same chips, every node has the rules'
contributions and folds, and every terminal is a finished hand with the same pot.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from holdem_lab.errors import GameError
from holdem_lab.games.betting import (
    BetSizing,
    StreetTracker,
    build_holdem_tree,
    holdem_tree_params,
    holdem_tree_summary,
    tree_path_actions,
)
from holdem_lab.games.payoffs import terminal_payoffs
from holdem_lab.games.translation import map_history
from holdem_lab.games.tree import (
    ALL_IN,
    BET_RAISE,
    CHECK_CALL,
    DECISION,
    FOLD,
    FOLD_TERMINAL,
    SHOWDOWN_TERMINAL,
    BettingTree,
    build_limit_tree,
)
from holdem_lab.rules import HandState, Table, replay


def no_value(cards: object) -> int:
    """Every showdown ties: the tests only need the hand to finish."""
    return 0


def new_state(table: Table) -> HandState:
    n = table.num_players
    holes = [(2 * s, 2 * s + 1) for s in range(n)]
    return HandState(table, holes, list(range(2 * n, 2 * n + 5)), hand_value=no_value)


@dataclass(frozen=True)
class Config:
    name: str
    stacks: tuple[int, ...]
    small_blind: int
    big_blind: int
    ante: int
    sizing: BetSizing
    ante_type: str | None = None

    def table(self) -> Table:
        return Table(num_players=len(self.stacks), stacks=self.stacks,
                     small_blind=self.small_blind, big_blind=self.big_blind, ante=self.ante,
                     ante_type=self.ante_type)

    def tree(self) -> BettingTree:
        return build_holdem_tree(num_players=len(self.stacks), stacks=self.stacks,
                                 small_blind=self.small_blind, big_blind=self.big_blind,
                                 ante=self.ante, sizing=self.sizing, ante_type=self.ante_type)


# ----------------------------------------------------------------- an independent enumeration


def expected_menu(state: HandState, sizing: BetSizing, depth: int) -> list[tuple[int, str, int]]:
    """(action kind, replay text, contribution after) of every abstract action, computed from
    the rules' legal actions and the size menu as the BetSizing documentation defines it."""
    legal = state.legal_actions()
    seat = legal.seat
    street = int(state.street)
    mine = state.contributions[seat]
    bets = state.bets
    out: list[tuple[int, str, int]] = []
    if legal.can_fold:
        out.append((FOLD, "f", mine))
    out.append((CHECK_CALL, "c", mine + legal.call_amount))
    if legal.min_raise_to is None or legal.max_raise_to is None \
            or depth >= sizing.max_raises[street]:
        return out
    level = state.current_bet
    all_in = legal.max_raise_to
    cover = max(bets[o] + state.stacks[o] for o in range(state.num_players)
                if o != seat and not state.folded[o])
    if street == 0 and depth == 0 and sizing.preflop_open_bb is not None:
        raw = [math.floor(x * state.table.big_blind + 0.5) for x in sizing.preflop_open_bb]
    else:
        menu = sizing.bet_sizes[street]
        if depth > 0 and sizing.raise_sizes is not None:
            menu = sizing.raise_sizes[street]
        owed = level - bets[seat]
        raw = [level + math.floor(f * (state.pot_total + owed) + 0.5) for f in menu]
    targets = set()
    for target in raw:
        target = max(target, legal.min_raise_to)
        targets.add(all_in if target >= min(all_in, cover) else target)
    if sizing.all_in:
        targets.add(all_in)
    for target in sorted(targets):
        out.append((ALL_IN if target == all_in else BET_RAISE, f"r{target}",
                    mine + target - bets[seat]))
    return out


def child_depth(before: HandState, after: HandState, text: str, depth: int) -> int:
    if after.street != before.street:
        return 0
    return depth + 1 if text.startswith("r") else depth


def count_abstract(state: HandState, sizing: BetSizing, depth: int = 0) -> Counter[str]:
    """Node counts of the abstract game, by plain recursion over HandState."""
    if state.is_terminal:
        live = state.folded.count(False)
        return Counter({"nodes": 1, "fold_terminal" if live == 1 else "showdown_terminal": 1})
    counts = Counter({"nodes": 1, "decision": 1})
    for _, text, _ in expected_menu(state, sizing, depth):
        child = state.clone()
        child.apply(text)
        counts.update(count_abstract(child, sizing, child_depth(state, child, text, depth)))
    return counts


def token(kind: int, text: str, facing_bet: bool, to_call: int) -> str:
    if kind == FOLD:
        return "f"
    if kind == CHECK_CALL:
        return "c" if to_call else "k"
    if kind == ALL_IN:
        return "a"
    return ("r" if facing_bet else "b") + text[1:]


def walk(tree: BettingTree, node: int, state: HandState, sizing: BetSizing, depth: int,
         seen: Counter[str]) -> None:
    """Check `node` against the rules state and recurse along every edge."""
    seen["nodes"] += 1
    assert tuple(int(c) for c in tree.contrib[node]) == state.contributions, tree.labels[node]
    assert tuple(bool(f) for f in tree.folded[node]) == state.folded, tree.labels[node]
    assert tree.labels[node].count("/") == tree.round[node] == int(state.street)
    if state.is_terminal:
        live = state.folded.count(False)
        assert tree.terminal[node] == (FOLD_TERMINAL if live == 1 else SHOWDOWN_TERMINAL)
        assert state.to_act is None and state.needs_board == 0
        assert tree.contrib[node].sum() == state.pot_total
        assert tree.num_actions[node] == 0 and tree.player[node] == -1
        return
    assert tree.terminal[node] == DECISION, tree.labels[node]
    assert tree.player[node] == state.to_act
    menu = expected_menu(state, sizing, depth)
    count = int(tree.num_actions[node])
    edges = [(int(tree.action_kind[node, a]), int(tree.action_amount[node, a]))
             for a in range(count)]
    assert edges == [(kind, amount) for kind, _, amount in menu], tree.labels[node]
    legal = state.legal_actions()
    for a, (kind, text, _) in enumerate(menu):
        child = state.clone()
        child.apply(text)  # raises IllegalActionError if the edge breaks the rules
        node_child = int(tree.children[node, a])
        assert tree.parent[node_child] == node
        step = tree.labels[node_child][len(tree.labels[node]):]
        assert tree.labels[node_child].startswith(tree.labels[node])
        assert step.rstrip("/") == token(kind, text, state.current_bet > 0, legal.call_amount)
        walk(tree, node_child, child, sizing, child_depth(state, child, text, depth), seen)


# Small games covering every seat count, unequal stacks (side pots), antes, a big blind all-in
# for less, short all-ins that do not reopen the betting, raise menus and opens in big blinds.
CONFIGS = [
    Config("hu-pot", (20, 20), 1, 2, 0,
           BetSizing(bet_sizes=((1.0,), (1.0,), (1.0,), (1.0,)), max_raises=(2, 1, 1, 1))),
    Config("hu-unequal-ante", (31, 13), 1, 2, 1,
           BetSizing(bet_sizes=((0.5,), (0.5, 1.0), (1.0,), (1.0,)),
                     raise_sizes=((1.0,), (1.0,), (1.0,), (1.0,)), preflop_open_bb=(2.5, 3.0),
                     max_raises=(3, 2, 1, 1))),
    Config("hu-no-all-in", (40, 25), 1, 2, 0,
           BetSizing(bet_sizes=((0.75,), (0.5,), (0.5,), (2.0,)), all_in=False,
                     max_raises=(3, 2, 1, 1))),
    Config("3p-side-pots", (25, 9, 40), 1, 2, 1,
           BetSizing(bet_sizes=((1.0,), (0.75,), (0.75,), (0.75,)), max_raises=(2, 1, 1, 1))),
    Config("3p-short-bb", (20, 1, 23), 1, 2, 0,
           BetSizing(bet_sizes=((0.5,), (1.0,), (1.0,), (1.0,)), max_raises=(2, 2, 1, 1))),
    Config("3p-no-reopen", (60, 60, 7), 1, 2, 0,
           BetSizing(bet_sizes=((), (), (), ()), preflop_open_bb=(2.0,),
                     raise_sizes=((0.2,), (), (), ()), max_raises=(4, 0, 0, 0))),
    Config("4p", (12, 14, 20, 7), 1, 2, 0,
           BetSizing(bet_sizes=((), (1.0,), (), (1.0,)), max_raises=(1, 1, 0, 1))),
    Config("4p-ante", (30, 30, 30, 30), 1, 2, 2,
           BetSizing(bet_sizes=((1.0,), (), (), ()), all_in=False, max_raises=(2, 0, 0, 0))),
    Config("6p-push-fold", (6, 9, 4, 12, 8, 10), 1, 2, 0,
           BetSizing(bet_sizes=((), (), (), ()), max_raises=(1, 0, 0, 0))),
    Config("6p-ante-open", (24, 15, 30, 11, 19, 26), 1, 2, 1,
           BetSizing(bet_sizes=((), (), (), ()), preflop_open_bb=(2.0,), all_in=False,
                     max_raises=(1, 0, 0, 0))),
    # Big-blind antes: heads-up (the big blind is seat 0), a big blind too short for the blind
    # and the ante (the blind comes first), and short stacks whose side pots hold dead money.
    Config("hu-bb-ante", (25, 14), 1, 2, 2,
           BetSizing(bet_sizes=((1.0,), (0.5,), (1.0,), (1.0,)), max_raises=(2, 1, 1, 1)),
           "big_blind"),
    Config("3p-bb-ante-short-bb", (25, 3, 40), 1, 2, 2,
           BetSizing(bet_sizes=((1.0,), (0.75,), (0.75,), (0.75,)), max_raises=(2, 1, 1, 1)),
           "big_blind"),
    Config("4p-bb-ante-side-pots", (30, 22, 9, 40), 1, 2, 2,
           BetSizing(bet_sizes=((1.0,), (), (1.0,), ()), max_raises=(1, 0, 1, 0)), "big_blind"),
    Config("6p-bb-ante", (24, 15, 30, 11, 19, 26), 1, 2, 2,
           BetSizing(bet_sizes=((), (), (), ()), max_raises=(1, 0, 0, 0)), "big_blind"),
]


@pytest.mark.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
def test_tree_matches_an_independent_count_and_the_rules(config: Config) -> None:
    tree = config.tree()
    expected = count_abstract(new_state(config.table()), config.sizing)
    counts = tree.counts()
    assert counts == {key: expected[key] for key in counts}, config.name
    assert 50 <= tree.num_nodes <= 30_000  # keep the walk fast, but not trivial
    seen: Counter[str] = Counter()
    walk(tree, 0, new_state(config.table()), config.sizing, 0, seen)
    assert seen["nodes"] == tree.num_nodes


@pytest.mark.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
def test_structure_is_flat_preorder(config: Config) -> None:
    tree = config.tree()
    n = tree.num_nodes
    assert tree.parent[0] == -1 and tree.terminal[0] == DECISION
    assert tree.starting_stacks == tuple(float(s) for s in config.stacks)
    nodes = np.repeat(np.arange(n), tree.num_actions.astype(np.int64))
    cols = np.concatenate([np.arange(k) for k in tree.num_actions.astype(np.int64)])
    children = tree.children[nodes, cols]
    assert np.all(children > nodes)  # preorder: children after their parent
    assert np.array_equal(tree.parent[children], nodes)
    assert np.count_nonzero(tree.children >= 0) == n - 1  # every node but the root has one parent
    assert np.all(tree.children[tree.terminal != DECISION] == -1)
    assert np.all((tree.action_kind >= 0) == (tree.children >= 0))
    # A subtree occupies the indices right after its root: the next sibling starts after it.
    sizes = np.ones(n, dtype=np.int64)
    for node in range(n - 1, 0, -1):
        sizes[tree.parent[node]] += sizes[node]
    for node in range(n):
        k = int(tree.num_actions[node])
        if k:
            starts = tree.children[node, :k]
            assert starts[0] == node + 1
            assert np.array_equal(starts[1:], starts[:-1] + sizes[starts[:-1]])
    # The acting player's contribution after the action: the child's, or more before uncalled
    # chips go back at the end of a round.
    seats = tree.player[nodes]
    after = tree.contrib[children, seats]
    assert np.all(tree.action_amount[nodes, cols] >= after)
    same_round = tree.round[children] == tree.round[nodes]
    live = tree.terminal[children] == DECISION
    exact = same_round & live
    assert np.array_equal(tree.action_amount[nodes, cols][exact], after[exact])
    assert len(set(tree.labels)) == n


def test_push_fold_tree_by_hand() -> None:
    """Heads-up, 10 big blinds, only fold/call/all-in preflop and no betting after the flop."""
    tree = build_holdem_tree(num_players=2, stacks=20, small_blind=1, big_blind=2,
                             sizing=BetSizing(bet_sizes=((), (), (), ()), max_raises=(1, 0, 0, 0)))
    assert tree.counts() == {"nodes": 16, "decision": 10, "fold_terminal": 3,
                             "showdown_terminal": 3}
    by_label = {label: i for i, label in enumerate(tree.labels)}
    assert set(by_label) == {"", "f", "c", "ck/", "ck/k", "ck/kk/", "ck/kk/k", "ck/kk/kk/",
                             "ck/kk/kk/k", "ck/kk/kk/kk", "ca", "caf", "cac///", "a", "af",
                             "ac///"}
    # Heads-up the small blind (seat 1) acts first preflop, the big blind (seat 0) first after.
    assert tree.player[0] == 1 and tree.player[by_label["ck/"]] == 0
    assert list(tree.contrib[0]) == [2.0, 1.0]
    assert list(tree.action_kind[0, :3]) == [FOLD, CHECK_CALL, ALL_IN]
    assert list(tree.action_amount[0, :3]) == [1.0, 2.0, 20.0]
    # The uncalled part of the big blind goes back when the small blind folds.
    assert list(tree.contrib[by_label["f"]]) == [1.0, 1.0]
    assert list(tree.folded[by_label["f"]]) == [False, True]
    # All-in and call: the flop, turn and river are dealt without betting.
    showdown = by_label["ac///"]
    assert tree.terminal[showdown] == SHOWDOWN_TERMINAL and tree.round[showdown] == 3
    assert list(tree.contrib[showdown]) == [20.0, 20.0]
    # The big blind's check after a limp carries no fold.
    assert tree.num_actions[by_label["c"]] == 2


def edge_map(tree: BettingTree, node: int) -> dict[str, tuple[int, float]]:
    out = {}
    for a in range(int(tree.num_actions[node])):
        child = int(tree.children[node, a])
        step = tree.labels[child][len(tree.labels[node]):].rstrip("/")
        out[step] = (int(tree.action_kind[node, a]), float(tree.action_amount[node, a]))
    return out


def test_pot_sized_raises_in_chips() -> None:
    """Pot raise: call, then raise by the pot after the call. 50/100 blinds, 100 big blinds."""
    tree = build_holdem_tree(num_players=2, stacks=10_000, small_blind=50, big_blind=100,
                             sizing=BetSizing(bet_sizes=((1.0,), (0.5,), (0.5,), (0.5,)),
                                              max_raises=(3, 1, 1, 1)))
    assert edge_map(tree, 0) == {"f": (FOLD, 50.0), "c": (CHECK_CALL, 100.0),
                                 "r300": (BET_RAISE, 300.0), "a": (ALL_IN, 10_000.0)}
    node = tree.labels.index("r300")
    # Facing 300: call 200 makes the pot 600, so the pot raise is to 300 + 600 = 900.
    assert edge_map(tree, node)["r900"] == (BET_RAISE, 900.0)
    node = tree.labels.index("r300r900")
    assert edge_map(tree, node)["r2700"] == (BET_RAISE, 2700.0)
    # After three raises only fold and call remain.
    assert set(edge_map(tree, tree.labels.index("r300r900r2700"))) == {"f", "c"}
    # Post-flop the first bet is a half pot of 600: 300 chips, written b300.
    flop = tree.labels.index("r300c/")
    assert edge_map(tree, flop)["b300"] == (BET_RAISE, 600.0)
    assert "b300" in edge_map(tree, tree.labels.index("r300c/k"))


def test_min_raise_rounding_and_duplicates() -> None:
    sizing = BetSizing(bet_sizes=((0.01,), (0.5, 0.55, 0.625), (0.5,), (0.5,)),
                       max_raises=(2, 2, 1, 1))
    tree = build_holdem_tree(num_players=2, stacks=100, small_blind=1, big_blind=2,
                             sizing=sizing)
    # A tiny raise becomes the minimum raise: the big blind plus a big blind.
    assert edge_map(tree, 0)["r4"] == (BET_RAISE, 4.0)
    # Limped pot of 4: 0.5 and 0.55 both round to 2 chips (kept once), 0.625 * 4 = 2.5 rounds
    # half up to 3.
    flop = tree.labels.index("ck/")
    assert set(edge_map(tree, flop)) == {"k", "b2", "b3", "a"}
    # Facing a bet of 2 into 4: the pot after the call is 8, so 0.5 and 0.55 both raise to 6
    # (kept once) and 0.625 to 7.
    facing = tree.labels.index("ck/b2")
    assert edge_map(tree, facing) == {"f": (FOLD, 2.0), "c": (CHECK_CALL, 4.0),
                                      "r6": (BET_RAISE, 8.0), "r7": (BET_RAISE, 9.0),
                                      "a": (ALL_IN, 100.0)}


def test_open_sizes_in_big_blinds_and_raise_menu() -> None:
    sizing = BetSizing(bet_sizes=((1.0,), (1.0,), (1.0,), (1.0,)), preflop_open_bb=(2.5, 4.0),
                       raise_sizes=((0.5,), (0.5,), (0.5,), (0.5,)), all_in=False,
                       max_raises=(2, 1, 1, 1))
    tree = build_holdem_tree(num_players=3, stacks=10_000, small_blind=50, big_blind=100,
                             sizing=sizing)
    assert tree.player[0] == 2  # the button opens three-handed
    assert set(edge_map(tree, 0)) == {"f", "c", "r250", "r400"}
    # Small blind facing 250: pot 400 + 200 to call = 600; half of it raises to 550.
    assert set(edge_map(tree, tree.labels.index("r250"))) == {"f", "c", "r550"}


def test_effective_stack_turns_big_raises_all_in() -> None:
    """A raise the opponents cannot match beyond their stacks is the all-in."""
    tree = build_holdem_tree(num_players=2, stacks=(100, 1000), small_blind=1, big_blind=2,
                             sizing=BetSizing(bet_sizes=((20.0,), (1.0,), (1.0,), (1.0,)),
                                              all_in=False))
    # Seat 1 (small blind) could raise to 2 + 20 * 4 = 82, under the big blind's 100: kept; the
    # all-in is not on the menu.
    assert set(edge_map(tree, 0)) == {"f", "c", "r82"}
    tree = build_holdem_tree(num_players=2, stacks=(50, 1000), small_blind=1, big_blind=2,
                             sizing=BetSizing(bet_sizes=((20.0,), (1.0,), (1.0,), (1.0,)),
                                              all_in=False))
    assert edge_map(tree, 0) == {"f": (FOLD, 1.0), "c": (CHECK_CALL, 2.0),
                                 "a": (ALL_IN, 1000.0)}
    # The big blind calls all-in for less; the uncalled 950 go back and the board runs out.
    showdown = tree.labels.index("ac///")
    assert list(tree.contrib[showdown]) == [50.0, 50.0]


def test_short_all_in_does_not_reopen_betting() -> None:
    """Three-handed, the button (7 chips) limps, the small blind opens to 4, the big blind makes
    it 6 and the button moves all-in to 7, adding 1, less than the full raise of 2. The small
    blind has not acted since the last full raise and keeps every option; after it calls, the
    big blind, who has, may only call or fold."""
    config = next(c for c in CONFIGS if c.name == "3p-no-reopen")
    tree = config.tree()
    assert edge_map(tree, tree.labels.index("cr4r6")) == {
        "f": (FOLD, 2.0), "c": (CHECK_CALL, 6.0), "a": (ALL_IN, 7.0)}
    assert set(edge_map(tree, tree.labels.index("cr4r6a"))) == {"f", "c", "r11", "a"}
    node = tree.labels.index("cr4r6ac")
    assert tree.player[node] == 1
    assert edge_map(tree, node) == {"f": (FOLD, 6.0), "c": (CHECK_CALL, 7.0)}
    state = new_state(config.table())
    for action in tree_path_actions(tree, node):
        state.apply(action)
    assert state.legal_actions().min_raise_to is None and state.stacks[1] > 1


def test_tree_path_actions_replay_with_the_rules() -> None:
    config = next(c for c in CONFIGS if c.name == "3p-side-pots")
    tree = config.tree()
    table = config.table()
    n = table.num_players
    holes = [(2 * s, 2 * s + 1) for s in range(n)]
    for node in np.flatnonzero(tree.terminal != DECISION)[:400]:
        actions = tree_path_actions(tree, int(node))
        result = replay(table, holes, list(range(2 * n, 2 * n + 5)), actions,
                        hand_value=no_value)
        assert sum(result) == 0
    assert tree_path_actions(tree, 0) == []
    with pytest.raises(GameError, match="node=-1"):
        tree_path_actions(tree, -1)
    with pytest.raises(GameError, match=f"node={tree.num_nodes}"):
        tree_path_actions(tree, tree.num_nodes)
    with pytest.raises(GameError, match=r"node=True"):
        tree_path_actions(tree, True)
    with pytest.raises(GameError, match=r"params=\{\}: must be HoldemTreeParams"):
        tree_path_actions(tree, 0, params={})  # type: ignore[arg-type]
    with pytest.raises(GameError, match=r"params=None: must be HoldemTreeParams"):
        StreetTracker(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["hu-unequal-ante", "3p-side-pots", "4p-ante", "hu-bb-ante",
                                  "3p-bb-ante-short-bb", "4p-bb-ante-side-pots", "6p-bb-ante"])
def test_solver_utilities_equal_the_rules_payoffs(name: str) -> None:
    """The solver's terminal payoff (pot share minus own contribution, side-pot layers) from the
    tree's node table equals the exact rules' payoff for the same line and hands."""
    config = next(c for c in CONFIGS if c.name == name)
    tree = config.tree()
    table = config.table()
    n = table.num_players
    holes = [(2 * s, 2 * s + 1) for s in range(n)]
    rng = np.random.default_rng(5)
    for node in np.flatnonzero(tree.terminal != DECISION):
        strength = rng.permutation(n).astype(np.int64)  # distinct: no split pots, no odd chips

        def value(cards: Sequence[int], strength: np.ndarray = strength) -> int:
            return int(strength[cards[0] // 2])

        payoffs = replay(table, holes, list(range(2 * n, 2 * n + 5)),
                         tree_path_actions(tree, int(node)), hand_value=value)
        utilities = terminal_payoffs(tree, strength[None, :])[int(node), 0].tolist()
        assert utilities == pytest.approx(payoffs), tree.labels[int(node)]


@pytest.mark.parametrize(("stacks", "posted", "bb_contrib"),
                         [((200, 200, 200), 2, 4), ((200, 3, 200), 1, 3), ((200, 2, 200), 0, 2)])
def test_root_pot_and_contributions_include_the_big_blind_ante(
        stacks: tuple[int, ...], posted: int, bb_contrib: int) -> None:
    tree = build_holdem_tree(num_players=3, stacks=stacks, small_blind=1, big_blind=2, ante=2,
                             ante_type="big_blind",
                             sizing=BetSizing(bet_sizes=((1.0,), (), (), ()),
                                              max_raises=(1, 0, 0, 0)))
    # The big blind antes after its blind, whatever is left up to the ante, as dead money.
    assert tree.contrib[0].tolist() == [1, bb_contrib, 0]
    assert tree.dead_money == posted and tree.dead_money_seat == 1
    call = int(np.flatnonzero(tree.action_kind[0] == CHECK_CALL)[0])
    assert tree.action_amount[0, call] == 2  # calling costs a big blind: the ante is not a bet
    params = holdem_tree_params(tree)
    assert params.table.ante_type == "big_blind"
    assert params.as_dict()["ante_type"] == "big_blind"
    # Uniform antes: every seat's ante in the root contributions, no dead money, no new key.
    uniform = build_holdem_tree(num_players=3, stacks=stacks, small_blind=1, big_blind=2, ante=2,
                                sizing=BetSizing(bet_sizes=((1.0,), (), (), ()),
                                                 max_raises=(1, 0, 0, 0)))
    assert uniform.contrib[0].tolist() == [3, min(stacks[1], 4), 2]
    assert uniform.dead_money == 0 and "ante_type" not in holdem_tree_params(uniform).as_dict()


@pytest.mark.parametrize("name", ["hu-bb-ante", "3p-bb-ante-short-bb", "4p-bb-ante-side-pots"])
def test_big_blind_ante_paths_translate_back_to_their_node(name: str) -> None:
    # Street bets leave the big blind's dead ante out (StreetTracker), so every tree line, played
    # as real actions, maps back onto itself.
    tree = next(c for c in CONFIGS if c.name == name).tree()
    for node in range(tree.num_nodes):
        assert map_history(tree, tree_path_actions(tree, node)).node == node, tree.labels[node]


def test_summary_counts() -> None:
    tree = CONFIGS[3].tree()
    summary = holdem_tree_summary(tree)
    assert {k: summary[k] for k in tree.counts()} == tree.counts()
    assert sum(sum(r.values()) for r in summary["by_round"].values()) == tree.num_nodes
    assert list(summary["by_round"]) == ["preflop", "flop", "turn", "river"]
    assert sum(summary["decision_by_player"]) == tree.counts()["decision"]
    assert len(summary["decision_by_player"]) == 3
    assert sum(summary["edges_by_kind"].values()) == tree.num_nodes - 1
    assert summary["max_depth"] == tree.max_depth
    assert summary["params"]["stacks"] == [25, 9, 40]
    assert summary["params"]["sizing"] == CONFIGS[3].sizing.as_dict()
    limit = build_limit_tree(num_players=2, ante=1.0, raise_sizes=(2.0, 4.0), max_raises=2)
    assert "params" not in holdem_tree_summary(limit)
    assert list(holdem_tree_summary(limit)["by_round"]) == ["round 0", "round 1"]
    with pytest.raises(GameError, match="tree must be a BettingTree"):
        holdem_tree_summary("tree")  # type: ignore[arg-type]


def test_params_are_kept_per_tree() -> None:
    tree = CONFIGS[0].tree()
    params = holdem_tree_params(tree)
    assert params.table == CONFIGS[0].table()
    assert params.sizing == CONFIGS[0].sizing
    limit = build_limit_tree(num_players=2, ante=1.0, raise_sizes=(1.0,), max_raises=1)
    with pytest.raises(GameError, match="not built by build_holdem_tree"):
        holdem_tree_params(limit)
    with pytest.raises(GameError, match="must be a BettingTree"):
        holdem_tree_params(None)  # type: ignore[arg-type]


def test_heads_up_100bb_builds_quickly_and_consistently() -> None:
    sizing = BetSizing(preflop_open_bb=(2.5,), bet_sizes=((1.0,), (0.33, 0.75, 1.5), (0.5, 1.0),
                                                         (0.5, 1.0)),
                       raise_sizes=((1.0,), (1.0,), (1.0,), (1.0,)), max_raises=(4, 3, 3, 3))
    tree = build_holdem_tree(num_players=2, stacks=10_000, small_blind=50, big_blind=100,
                             sizing=sizing)
    counts = tree.counts()
    assert counts["nodes"] == counts["decision"] + counts["fold_terminal"] \
        + counts["showdown_terminal"]
    assert counts["nodes"] > 10_000
    # Every path conserves chips: nobody ever has more in the pot than the starting stack.
    assert np.all(tree.contrib <= np.asarray(tree.starting_stacks))
    assert np.all([label.count("/") for label in tree.labels[::97]] == tree.round[::97])
    with pytest.raises(GameError, match="max_nodes=1000"):
        build_holdem_tree(num_players=2, stacks=10_000, small_blind=50, big_blind=100,
                          sizing=sizing, max_nodes=1000)


# ----------------------------------------------------------------- BetSizing validation


def test_sizing_defaults_and_round_trip() -> None:
    sizing = BetSizing()
    assert sizing.bet_sizes == ((1.0,), (0.5, 1.0), (0.5, 1.0), (0.5, 1.0))
    assert sizing.max_raises == (3, 2, 2, 2)
    custom = BetSizing(bet_sizes=[[1], [0.5], [], (2,)], raise_sizes=((1.0,),) * 4,  # type: ignore[arg-type]
                       preflop_open_bb=[2.5], max_raises=[1, 1, 1, 1], all_in=False)  # type: ignore[arg-type]
    assert custom.bet_sizes == ((1.0,), (0.5,), (), (2.0,))
    assert custom.preflop_open_bb == (2.5,) and custom.max_raises == (1, 1, 1, 1)
    assert custom.menu(0, 0) == (1.0,) and custom.menu(0, 1) == (1.0,)
    assert sizing.menu(1, 0) == (0.5, 1.0) and sizing.menu(3, 2) == (0.5, 1.0)
    with pytest.raises(GameError, match=r"round_index=4: must be an integer in 0..3"):
        sizing.menu(4, 0)
    with pytest.raises(GameError, match=r"depth=-1: must be an integer >= 0"):
        sizing.menu(0, -1)
    assert BetSizing.from_dict(custom.as_dict()) == custom
    assert BetSizing.from_dict(sizing.as_dict()) == sizing
    assert BetSizing.from_dict({}) == sizing


BAD_SIZINGS: list[tuple[dict[str, Any], str]] = [
    ({"bet_sizes": ((1.0,),) * 3}, r"bet_sizes=.*must hold 4 size menus"),
    ({"bet_sizes": "1.0"}, r"bet_sizes='1.0'"),
    ({"bet_sizes": ((1.0,), (0.0,), (), ())}, r"bet_sizes\[1\]\[0\]=0.0: must be a finite"),
    ({"bet_sizes": ((1.0,), (-0.5,), (), ())}, r"bet_sizes\[1\]\[0\]=-0.5"),
    ({"bet_sizes": ((float("nan"),), (), (), ())}, r"bet_sizes\[0\]\[0\]=nan"),
    ({"bet_sizes": ((float("inf"),), (), (), ())}, r"bet_sizes\[0\]\[0\]=inf"),
    ({"bet_sizes": ((True,), (), (), ())}, r"bet_sizes\[0\]\[0\]=True"),
    ({"bet_sizes": (("1",), (), (), ())}, r"bet_sizes\[0\]\[0\]='1'"),
    ({"bet_sizes": ((1.0, 1.0), (), (), ())}, r"bet_sizes\[0\]\[1\]=1.0: repeats"),
    ({"bet_sizes": (1.0, (), (), ())}, r"bet_sizes\[0\]=1.0: must be a sequence"),
    ({"bet_sizes": (tuple(range(1, 18)), (), (), ())}, r"bet_sizes\[0\]=.*at most 16 sizes"),
    ({"raise_sizes": ((1.0,),)}, r"raise_sizes=.*must hold 4 size menus"),
    ({"raise_sizes": ((1.0,), (), (), (-1,))}, r"raise_sizes\[3\]\[0\]=-1"),
    ({"preflop_open_bb": (1.0,)}, r"preflop_open_bb\[0\]=1.0: must be a finite number > 1"),
    ({"preflop_open_bb": 2.5}, r"preflop_open_bb=2.5: must be a sequence"),
    ({"all_in": 1}, r"all_in=1: must be true or false"),
    ({"all_in": "yes"}, r"all_in='yes'"),
    ({"max_raises": (1, 1, 1)}, r"max_raises=\(1, 1, 1\): must hold 4 integers"),
    ({"max_raises": 3}, r"max_raises=3: must hold 4 integers"),
    ({"max_raises": (1, -1, 1, 1)}, r"max_raises\[1\]=-1: must be an integer from 0 to 32"),
    ({"max_raises": (1, 1, 1, 33)}, r"max_raises\[3\]=33: must be an integer from 0 to 32"),
    ({"max_raises": (1, 1.5, 1, 1)}, r"max_raises\[1\]=1.5"),
    ({"max_raises": (True, 1, 1, 1)}, r"max_raises\[0\]=True"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_SIZINGS)
def test_invalid_sizing_raises(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(GameError, match=message):
        BetSizing(**kwargs)


def test_sizing_from_dict_rejects_unknown_keys_and_non_mappings() -> None:
    with pytest.raises(GameError, match=r"unknown bet sizing key\(s\) \['sizes'\]"):
        BetSizing.from_dict({"sizes": [1.0]})
    with pytest.raises(GameError, match="must be a mapping, got 3"):
        BetSizing.from_dict(3)  # type: ignore[arg-type]
    with pytest.raises(GameError, match=r"max_raises\[0\]=-2"):
        BetSizing.from_dict({"max_raises": [-2, 1, 1, 1]})


BAD_TREES: list[tuple[dict[str, Any], str]] = [
    ({"num_players": 1}, "num_players must be >= 2, got 1"),
    ({"num_players": 7}, "num_players must be <= 6, got 7"),
    ({"num_players": 2.0}, r"num_players=2.0: must be an integer"),
    ({"num_players": True}, r"num_players=True"),
    ({"stacks": (100, 100, 100)}, r"stacks must have num_players=2 entries, got 3"),
    ({"stacks": 0}, r"stacks\[0\] must be >= 1, got 0"),
    ({"stacks": (100, -5)}, r"stacks\[1\] must be >= 1, got -5"),
    ({"stacks": "100"}, r"stacks='100': must be an integer or one integer per seat"),
    ({"stacks": 2.5}, r"stacks=2.5"),
    ({"stacks": 2**31}, r"stacks=\[2147483648, 2147483648\]: at most 2147483647 chips"),
    ({"small_blind": 0}, "small_blind must be >= 1, got 0"),
    ({"small_blind": 3}, "small_blind must be <= big_blind=2, got 3"),
    ({"big_blind": 1.5}, "big_blind must be an integer, got 1.5"),
    ({"ante": -1}, "ante must be >= 0, got -1"),
    ({"sizing": {"bet_sizes": ()}}, r"sizing=\{'bet_sizes': \(\)\}: must be a BetSizing"),
    ({"max_nodes": 0}, r"max_nodes=0: must be an integer from 1"),
    ({"max_nodes": 10.0}, r"max_nodes=10.0"),
    ({"stacks": (1, 100)}, r"no player has a decision with stacks=\[1, 100\]"),
    ({"stacks": 2, "ante": 1}, r"no player has a decision"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_TREES)
def test_invalid_tree_arguments_raise(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"num_players": 2, "stacks": 100, "small_blind": 1,
                                 "big_blind": 2, "sizing": BetSizing(max_raises=(1, 1, 1, 1))}
    arguments.update(kwargs)
    with pytest.raises(GameError, match=message):
        build_holdem_tree(**arguments)


@pytest.mark.parametrize("params", [
    {},
    {"num_players": 3, "ante": 1},
    {"num_players": 3, "ante": 2, "ante_type": "big_blind",
     "bet_sizing": {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]], "max_raises": [2, 1, 1, 1]}},
])
def test_a_fold_is_offered_exactly_when_a_bet_is_faced(params: dict[str, object]) -> None:
    """Agents and the explorer's labels read "facing a bet" from the fold edge; the live chips
    (a big blind's dead ante excluded) say the same at every decision node."""
    from holdem_lab.games import load_game
    from holdem_lab.games.tree import FOLD
    from holdem_lab.lab.views import action_names

    game = load_game("holdem", **params)  # type: ignore[arg-type]
    tree = game.tree
    for node in tree.decision_nodes:
        player = int(tree.player[node])
        live = np.array(tree.contrib[node], dtype=float)
        if tree.dead_money_seat >= 0:
            live[tree.dead_money_seat] -= tree.dead_money
        kinds = [int(tree.action_kind[node, a]) for a in range(int(tree.num_actions[node]))]
        facing = live[player] < live.max()
        assert (FOLD in kinds) == facing, node
        names = action_names(game, node)
        assert ("call" in names) == facing and ("check" in names) == (not facing), names
