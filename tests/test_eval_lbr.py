"""Local best response: the issue's known answers (always-fold, always-call computed another
way, uniform), the lower-bound property on Leduc against the exact best response, the two
estimators agreeing, determinism and argument errors."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.cards.evaluator import evaluate7
from holdem_lab.errors import GameError
from holdem_lab.eval.exact import best_response_value, expected_values, uniform_policy
from holdem_lab.eval.lbr import (
    LBRActions,
    baseline_policy,
    leduc_lbr_value,
    local_best_response,
    make_deals,
    paired_difference,
    parse_actions,
)

FULL = os.environ.get("HOLDEM_LAB_FULL") == "1"
STACK = 40  # 20 big blinds: a small tree, and all-in swings that keep intervals short


@pytest.fixture(scope="module")
def game():
    return load_game("holdem", num_players=2, stack=STACK, small_blind=1, big_blind=2)


@pytest.mark.parametrize("estimator", ["imaginary", "showdown", "plain"])
def test_always_fold_fcpa_is_exactly_750(game, estimator):
    # Big blind: the small blind folds (+1 chip); small blind: LBR limps, the big blind checks
    # to the turn and folds to the pot bet (+2 chips): 1.5 chips = 750 mbb a hand, every deal.
    result = local_best_response(game, baseline_policy(game, "always_fold"), deal_pairs=300,
                                 actions="fcpa", estimator=estimator, seed=3)
    assert np.all(result.pair_scores == 750.0)
    assert result.mbb_per_hand == 750.0 and result.ci95_mbb == 0.0


@pytest.mark.parametrize("estimator", ["imaginary", "showdown", "plain"])
def test_always_fold_fc_is_250_within_its_interval(game, estimator):
    # As big blind +500; as small blind LBR calls every hand (no class is below the 1/4 pot
    # odds) and checks it down: an even showdown on average.
    result = local_best_response(game, baseline_policy(game, "always_fold"), deal_pairs=2000,
                                 actions="fc", estimator=estimator, seed=5)
    assert abs(result.mbb_per_hand - 250.0) <= result.ci95_mbb
    assert result.ci95_mbb < 60.0


def _pairs(cards: np.ndarray) -> np.ndarray:
    first, second = np.triu_indices(len(cards), 1)
    return np.stack([cards[first], cards[second]], axis=1)


def _always_call_value(samples: int, seed: int) -> tuple[float, float]:
    """LBR (fcpa) against always-call computed without LBR's code: the range stays every pair,
    so LBR goes all-in on the turn with turn equity > 1/2, else on the river with river
    equity > 1/2, else checks it down for the blinds; the expected result of a dealt hand and
    board is stake * (2 * river equity - 1). Returns mean and standard error (mbb/hand)."""
    rng = np.random.default_rng(seed)
    values = np.zeros(samples)
    for i in range(samples):
        cards = rng.permutation(52)
        mine, board = cards[:2], cards[2:7]
        rest = np.setdiff1d(np.arange(52), cards[:7])
        pairs = _pairs(rest)

        def equity(full_board: np.ndarray, opponents: np.ndarray,
                   mine: np.ndarray = mine) -> float:
            me = evaluate7(np.concatenate([mine, full_board])[None, :], check=False)
            them = evaluate7(np.concatenate(
                [opponents, np.broadcast_to(full_board, (len(opponents), 5))], axis=1),
                check=False)
            return float(np.mean((me > them) + 0.5 * (me == them)))

        river_equity = equity(board, pairs)
        turn_scores = []
        unseen = np.append(rest, board[4])
        for river in unseen:
            left = unseen[unseen != river]
            turn_scores.append(equity(np.append(board[:4], river), _pairs(left)))
        stake = STACK if np.mean(turn_scores) > 0.5 or river_equity > 0.5 else 2
        values[i] = stake * (2.0 * river_equity - 1.0) * 500.0
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(samples))


def test_always_call_matches_a_direct_computation(game):
    result = local_best_response(game, baseline_policy(game, "always_call"), deal_pairs=3000,
                                 seed=11)
    direct, direct_se = _always_call_value(1000 if not FULL else 4000, seed=12)
    assert result.low > 0.0 and result.mbb_per_hand > 2000.0
    tolerance = 1.96 * math.hypot(result.ci95_mbb / 1.96, direct_se) * 1.5
    assert abs(result.mbb_per_hand - direct) <= tolerance, (result.summary(), direct, direct_se)


def test_uniform_loses_heavily_and_the_estimators_agree(game):
    policy = baseline_policy(game, "uniform")
    results = [local_best_response(game, policy, deal_pairs=3000, seed=21, estimator=estimator)
               for estimator in ("imaginary", "showdown", "plain")]
    for result in results:
        assert result.low > 1000.0, result.summary()
    for a, b in zip(results, results[1:], strict=False):
        assert abs(a.mbb_per_hand - b.mbb_per_hand) <= 1.5 * math.hypot(a.ci95_mbb, b.ci95_mbb)


@pytest.mark.slow
def test_the_three_estimators_agree_with_bets_on_every_street():
    # 3.5 big blinds: LBR's preflop and flop bets, their translation and the blueprint's real
    # raises all happen in most hands; the estimators differ only in variance.
    short = load_game("holdem", num_players=2, stack=7)
    policy = baseline_policy(short, "uniform")
    results = [local_best_response(short, policy, deal_pairs=6000 if FULL else 2000, seed=9,
                                   estimator=estimator, actions="0.33,0.75,2,a")
               for estimator in ("imaginary", "showdown", "plain")]
    for a, b in zip(results, results[1:], strict=False):
        assert abs(a.mbb_per_hand - b.mbb_per_hand) <= 1.5 * math.hypot(a.ci95_mbb, b.ci95_mbb)
    assert results[0].sd_per_pair_mbb < results[2].sd_per_pair_mbb


def test_bet_lists_beat_check_call_and_the_folding_agent(game):
    policy = baseline_policy(game, "always_fold")
    result = local_best_response(game, policy, deal_pairs=200, actions="0.5,1,a", seed=2)
    # With bets on every street LBR raises from the small blind and the big blind folds (+2
    # chips); from the big blind the small blind has already folded (+1): 750 every deal.
    assert np.all(result.pair_scores == 750.0)


def test_same_seed_same_number_whatever_the_threads(game):
    policy = baseline_policy(game, "uniform")
    one = local_best_response(game, policy, deal_pairs=64, seed=7, threads=1, batch=16)
    two = local_best_response(game, policy, deal_pairs=64, seed=7, threads=2)
    listed = local_best_response(game, policy, deals=make_deals(64, 7))
    assert np.array_equal(one.pair_scores, two.pair_scores)
    assert np.array_equal(one.pair_scores, listed.pair_scores)
    other = local_best_response(game, policy, deal_pairs=64, seed=8)
    assert not np.array_equal(one.pair_scores, other.pair_scores)
    difference, half_width = paired_difference(one, two)
    assert difference == 0.0 and half_width == 0.0
    with pytest.raises(GameError, match="same deal list"):
        paired_difference(one, other)


def test_progress_reports_every_batch_and_a_budget_stops_between_batches(game):
    seen: list[int] = []
    policy = baseline_policy(game, "uniform")
    full = local_best_response(game, policy, deal_pairs=40, batch=16, progress=seen.append)
    assert seen == [16, 32, 40]
    part = local_best_response(game, policy, deal_pairs=40, batch=16, should_stop=lambda: True)
    assert part.deal_pairs == 16 and np.array_equal(part.pair_scores, full.pair_scores[:16])


@pytest.mark.slow
def test_lbr_falls_as_a_blueprint_learns():
    # 10 big blinds, betting preflop only: the lossless preflop abstraction is the whole game,
    # so training converges and LBR (with bets where the tree allows them) must fall.
    game = load_game("holdem", stack=20, bet_sizing={"bet_sizes": [[1.0]] * 4,
                                                     "max_raises": [3, 0, 0, 0]})
    solver = Solver(game, MCCFRConfig(seed=0, discount_mode="linear", discount_interval=1000))
    deals = make_deals(4000 if FULL else 2000, seed=1)
    results = []
    for iterations in (2_000, 18_000):
        solver.run(iterations)
        results.append(local_best_response(game, solver.average_policy(), deals=deals,
                                           actions="0.5,1,a"))
    early, late = results
    assert late.high < early.low, (early.summary(), late.summary())


# --------------------------------------------------------------------------- lower bound


def _leduc_policies(game):
    rng = np.random.default_rng(0)
    mask = game.row_action_mask()
    policies = {"uniform": uniform_policy(game)}
    for k in range(2):
        raw = rng.random(mask.shape) * mask
        policies[f"random{k}"] = raw / raw.sum(axis=1, keepdims=True)
    solver = Solver(game, MCCFRConfig(seed=3))
    solver.run(2000)
    policies["trained"] = solver.average_policy()
    return policies


def test_lbr_never_beats_the_exact_best_response_on_leduc():
    game = load_game("leduc")
    for name, policy in _leduc_policies(game).items():
        own = expected_values(game, policy)
        for player in range(2):
            lbr = leduc_lbr_value(game, policy, player)
            best = best_response_value(game, policy, player)
            assert lbr <= best + 1e-12, (name, player, lbr, best)
            if name == "uniform":
                # the rule is not vacuous: it wins more than the policy does against itself
                assert lbr > own[player] + 0.3, (player, lbr, own)


# --------------------------------------------------------------------------- arguments


def test_action_sets_parse():
    assert parse_actions("fcpa").decide == (False, False, True, True)
    assert parse_actions("fc").fractions == ((),) * 4
    menu = parse_actions("1, 0.5,a")
    assert menu.fractions == ((0.5, 1.0),) * 4 and menu.all_in == (True,) * 4
    assert parse_actions([0.5, 2]).fractions == ((0.5, 2.0),) * 4
    per_street = parse_actions("1/1/0.5,1/a")
    assert per_street.fractions[2] == (0.5, 1.0) and per_street.all_in == (False,) * 3 + (True,)
    assert isinstance(parse_actions(per_street), LBRActions)
    for bad in ("fold", "0.5,-1", "1/2", "nan", ""):
        with pytest.raises(GameError):
            parse_actions(bad)


def test_bad_arguments_are_refused(game):
    policy = baseline_policy(game, "uniform")
    with pytest.raises(GameError, match="heads-up Hold'em"):
        local_best_response(load_game("leduc"), policy)
    with pytest.raises(GameError, match="policy shape"):
        local_best_response(game, policy[:-1])
    with pytest.raises(GameError, match="threads"):
        local_best_response(game, policy, deal_pairs=4, threads=0)
    with pytest.raises(GameError, match="deal_pairs"):
        local_best_response(game, policy, deal_pairs=1)
    with pytest.raises(GameError, match="unknown baseline"):
        baseline_policy(game, "always_raise")


# --------------------------------------------------------------------------- holdem-eval --lbr


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from holdem_lab.chunks import ChunkStatus, run_chunk
    from holdem_lab.config import GameSpec

    spec = GameSpec(game="holdem", game_params={
        "stack": STACK, "bet_sizing": {"bet_sizes": [[1.0]] * 4, "max_raises": [2, 1, 1, 1]}})
    runs = []
    for iterations in (200, 2000):
        logdir = tmp_path_factory.mktemp(f"run{iterations}")
        config = MCCFRConfig(num_iterations=iterations, seed=1)
        while run_chunk(logdir, spec, config, progress=False,
                        tensorboard=False).status is not ChunkStatus.COMPLETE:
            pass
        runs.append(str(logdir))
    return runs


def test_cli_lbr_two_runs_prints_both_and_the_paired_difference(two_runs, capsys):
    import json

    from holdem_lab.cli.evaluate import main

    assert main([*two_runs, "--lbr", "--hands", "300", "--json", "--threads", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    first, second = report["lbr"]
    assert (first["iteration"], second["iteration"]) == (200, 2000)
    assert first["actions"] == "fcpa" and first["deal_pairs"] == 300
    assert report["difference"]["mbb_per_hand"] == pytest.approx(
        first["mbb_per_hand"] - second["mbb_per_hand"])
    assert report["difference"]["ci95_mbb"] > 0.0
    assert main([two_runs[0], "--lbr", "--lbr-actions", "fc", "--hands", "50"]) == 0
    text = capsys.readouterr().out
    assert "LBR (fc):" in text and "mbb/hand" in text and "difference" not in text


def test_cli_lbr_refuses_bad_input(two_runs, capsys):
    from holdem_lab.cli.evaluate import main

    assert main([two_runs[0], "--lbr", "--lbr-actions", "0.5,x", "--hands", "50"]) == 2
    assert "'x' is neither a pot fraction" in capsys.readouterr().err
    assert main([*two_runs, two_runs[0], "--lbr"]) == 2
    assert "one or two blueprints" in capsys.readouterr().err
    assert main(two_runs) == 2
    assert "two only with --lbr" in capsys.readouterr().err


def test_big_blind_antes_are_refused_plainly() -> None:
    game = load_game("holdem", ante=1, ante_type="big_blind",
                     bet_sizing={"bet_sizes": [[1.0]] * 4, "max_raises": [1, 1, 1, 1]})
    policy = np.full((game.num_rows, game.max_actions), 1.0)
    with pytest.raises(GameError, match="big-blind antes"):
        local_best_response(game, policy, deal_pairs=2)
