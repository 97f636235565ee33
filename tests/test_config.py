"""MCCFRConfig / GameSpec validation: one test per rule, each asserting the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from holdem_lab.config import (
    FIELD_FLAGS,
    GAME_FIELDS,
    MCCFR_FIELDS,
    NOTEBOOK_OVERRIDE_FIELDS,
    SETTING_FLAGS,
    GameSpec,
    MCCFRConfig,
    config_from_mapping,
    load_run_config,
)
from holdem_lab.errors import ConfigError


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("num_iterations", 0, "num_iterations=0: must be >= 1"),
        ("num_iterations", 2.5, "num_iterations=2.5: must be an integer"),
        ("num_iterations", True, "num_iterations=True: must be an integer"),
        ("time_budget_seconds", -1.0, "time_budget_seconds=-1.0: must be > 0.0"),
        ("time_budget_seconds", float("nan"), "time_budget_seconds=nan: must be finite"),
        ("checkpoint_interval", 0, "checkpoint_interval=0: must be >= 1"),
        ("snapshot_interval_seconds", 0, "snapshot_interval_seconds=0: must be > 0.0"),
        ("tensorboard_log_interval", 0, "tensorboard_log_interval=0: must be >= 1"),
        ("exploitability_interval", -5, "exploitability_interval=-5: must be >= 1"),
        ("sampling", "vanilla", "sampling='vanilla': must be one of external, outcome"),
        ("exploration_epsilon", 0.0, "exploration_epsilon=0.0: must be > 0.0"),
        ("exploration_epsilon", 1.5, "exploration_epsilon=1.5: must be <= 1.0"),
        ("exploration_epsilon", "0.6", "exploration_epsilon='0.6': must be a number"),
        ("discount_mode", "cfr+", "discount_mode='cfr+': must be one of none, linear, dcfr"),
        ("dcfr_alpha", -1.0, "dcfr_alpha=-1.0: must be >= 0.0"),
        ("dcfr_gamma", -0.5, "dcfr_gamma=-0.5: must be >= 0.0"),
        ("discount_interval", 0, "discount_interval=0: must be >= 1"),
        ("discount_stop_iteration", 0, "discount_stop_iteration=0: must be >= 1"),
        ("enable_pruning", "yes", "enable_pruning='yes': must be true or false"),
        ("prune_threshold", 10.0, "prune_threshold=10.0: must be negative"),
        ("prune_probability", 1.5, "prune_probability=1.5: must be <= 1.0"),
        ("prune_warmup_iterations", -1, "prune_warmup_iterations=-1: must be >= 0"),
        ("regret_floor", 1.0, "regret_floor=1.0: must be negative"),
        ("enable_chunked_training", 1, "enable_chunked_training=1: must be true or false"),
        ("chunk_size_iterations", 0, "chunk_size_iterations=0: must be >= 1"),
        ("chunk_size_minutes", 0.0, "chunk_size_minutes=0.0: must be > 0.0"),
        ("num_workers", 0, "num_workers=0: must be >= 1"),
        ("engine", "threads", "engine='threads': must be one of auto, sharded, sequential"),
        ("batch_iterations", 0, "batch_iterations=0: must be >= 1"),
        ("shards", 0, "shards=0: must be >= 1"),
        ("num_players", 1, "num_players=1: must be >= 2"),
        ("num_players", 7, "num_players=7: must be <= 6"),
        ("seed", -3, "seed=-3: must be >= 0"),
    ],
)
def test_invalid_field_names_field_and_value(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MCCFRConfig(**{field: value})  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert caught.value.field == field


def test_regret_floor_must_not_be_above_prune_threshold() -> None:
    with pytest.raises(ConfigError, match=r"regret_floor=-10.0: must be <= prune_threshold"
                       ) as caught:
        MCCFRConfig(enable_pruning=True, prune_threshold=-100.0, regret_floor=-10.0)
    assert caught.value.fields == ("regret_floor", "prune_threshold")


def test_chunked_needs_chunk_size() -> None:
    with pytest.raises(ConfigError, match="needs chunk_size_iterations and/or chunk_size_minutes"
                       ) as caught:
        MCCFRConfig(enable_chunked_training=True, num_iterations=10)
    assert caught.value.fields == ("enable_chunked_training", "chunk_size_iterations",
                                   "chunk_size_minutes")


def test_chunked_needs_total() -> None:
    with pytest.raises(ConfigError, match="needs a total: num_iterations and/or time_budget"
                       ) as caught:
        MCCFRConfig(enable_chunked_training=True, chunk_size_iterations=10)
    assert caught.value.fields == ("enable_chunked_training", "num_iterations",
                                   "time_budget_seconds")


def test_buckets_only_for_holdem_names_the_game_too() -> None:
    with pytest.raises(ConfigError, match="only Hold'em uses a bucket file") as caught:
        GameSpec(game="kuhn", buckets="data/buckets")
    assert caught.value.fields == ("buckets", "game")


def test_a_single_field_error_names_no_other_field() -> None:
    with pytest.raises(ConfigError) as caught:
        MCCFRConfig(seed=-3)
    assert caught.value.fields == ("seed",)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ([[10, 0.5], [5, 0.3]], "iterations must be strictly increasing"),
        ([[0, 1.5]], "epsilon_schedule=1.5: must be <= 1.0"),
        ([[0]], "must be a list of [iteration, epsilon] pairs"),
        ([[-1, 0.5]], "epsilon_schedule=-1: must be >= 0"),
        ("0.6", "must be a list of [iteration, epsilon] pairs"),
    ],
)
def test_epsilon_schedule_rules(schedule: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MCCFRConfig(epsilon_schedule=schedule)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_epsilon_schedule_is_a_step_function() -> None:
    config = MCCFRConfig(exploration_epsilon=0.6, epsilon_schedule=((100, 0.4), (1000, 0.2)))
    assert [config.epsilon_at(t) for t in (1, 99, 100, 999, 1000, 10**9)] == \
        [0.6, 0.6, 0.4, 0.4, 0.2, 0.2]


def test_yaml_loads_flat_keys_and_scientific_literals(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(
        "game: leduc\nnum_iterations: 1e6\nenable_chunked_training: true\n"
        "chunk_size_iterations: 100_000\ndiscount_mode: dcfr\nexploration_epsilon: 0.6\n"
        "epsilon_schedule: [[0, 0.6], [500000, 0.3]]\n")
    spec, config = load_run_config(path)
    assert spec.game == "leduc"
    assert config.num_iterations == 1_000_000
    assert config.chunk_size_iterations == 100_000
    assert config.epsilon_schedule == ((0, 0.6), (500000, 0.3))


def test_yaml_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("num_iteration: 10\n")
    with pytest.raises(ConfigError, match=r"num_iteration=10: unknown key \(known keys: "):
        load_run_config(path)


def test_yaml_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping of field names to values"):
        load_run_config(path)


def test_yaml_syntax_error_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("num_iterations: [1, 2\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_run_config(path)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_run_config(tmp_path / "absent.yaml")


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("num_iterations: 100\nseed: 1\n")
    _, config = load_run_config(path, {"seed": 7, "num_iterations": None})
    assert (config.num_iterations, config.seed) == (100, 7)


def test_the_flag_table_names_real_fields_flags_and_notebook_parameters() -> None:
    from holdem_lab.cli.train import build_parser
    from holdem_lab.lab.chunk import OVERRIDE_FIELDS, PARAMETERS

    options = {action.option_strings[0]: action.dest for action in build_parser()._actions
               if action.option_strings}
    for row in SETTING_FLAGS:
        assert row.field in MCCFR_FIELDS | GAME_FIELDS, row
        assert options.get(row.flag) == row.dest, row
        assert row.notebook_parameter is None or row.notebook_parameter in PARAMETERS, row
    assert len({row.field for row in SETTING_FLAGS}) == len(SETTING_FLAGS)
    assert len({row.flag for row in SETTING_FLAGS}) == len(SETTING_FLAGS)
    assert FIELD_FLAGS["enable_chunked_training"] == "--chunked"
    assert FIELD_FLAGS["num_iterations"] == "--iters"
    assert OVERRIDE_FIELDS == NOTEBOOK_OVERRIDE_FIELDS == {
        "chunk_iterations": "chunk_size_iterations", "chunk_minutes": "chunk_size_minutes",
        "num_iterations": "num_iterations", "game": "game", "seed": "seed",
        "workers": "num_workers", "ray_address": "ray_address"}


def test_every_flag_of_the_table_reaches_its_field(tmp_path: Path) -> None:
    from holdem_lab.cli.train import build_parser, settings_from_args

    args = build_parser().parse_args([
        "--logdir", str(tmp_path), "--iters", "100", "--time-budget", "60", "--chunked",
        "--chunk-iterations", "10", "--chunk-minutes", "1.5", "--checkpoint-interval", "5",
        "--snapshot-interval", "30", "--discount-interval", "3", "--discount-mode", "linear",
        "--epsilon", "0.5", "--num-players", "3", "--seed", "9", "--sampling", "outcome",
        "--tensorboard-interval", "7", "--exploitability-interval", "20", "--game", "holdem",
        "--buckets", "data/b"])
    assert settings_from_args(args) == {
        "num_iterations": 100, "time_budget_seconds": 60.0, "enable_chunked_training": True,
        "chunk_size_iterations": 10, "chunk_size_minutes": 1.5, "checkpoint_interval": 5,
        "snapshot_interval_seconds": 30.0, "discount_interval": 3, "discount_mode": "linear",
        "exploration_epsilon": 0.5, "num_players": 3, "seed": 9, "sampling": "outcome",
        "tensorboard_log_interval": 7, "exploitability_interval": 20, "game": "holdem",
        "buckets": "data/b"}
    assert settings_from_args(build_parser().parse_args(["--logdir", str(tmp_path)])) == {}


def test_unknown_game_is_named() -> None:
    with pytest.raises(ConfigError, match="game='chess': must be one of kuhn, leduc, holdem"):
        config_from_mapping({"game": "chess"})


def test_to_dict_round_trips() -> None:
    config = MCCFRConfig(num_iterations=5, epsilon_schedule=((0, 0.5),), sampling="outcome")
    _, again = config_from_mapping(config.to_dict())
    assert again == config


# The chunked-training guide's configurations, verbatim but for the import (the guide's
# `holdem.types` is `holdem_lab` here).
GUIDE_YAML = """\
# Total training
num_iterations: 1000000

# Chunked training mode
enable_chunked_training: true
chunk_size_iterations: 100000

# Regular checkpoints
checkpoint_interval: 25000

# DCFR discounting
discount_mode: "dcfr"
discount_interval: 1000

# Exploration
exploration_epsilon: 0.6
enable_pruning: true
"""


def test_the_guides_configurations_are_accepted_as_written(tmp_path: Path) -> None:
    iterations = MCCFRConfig(
        num_iterations=1_000_000,
        enable_chunked_training=True,
        chunk_size_iterations=100_000,
        checkpoint_interval=25_000,
        discount_mode="dcfr",
        discount_interval=1000,
        exploration_epsilon=0.6,
        enable_pruning=True,
    )
    timed = MCCFRConfig(
        time_budget_seconds=8 * 24 * 3600,
        enable_chunked_training=True,
        chunk_size_minutes=60.0,
        snapshot_interval_seconds=900,
        discount_mode="dcfr",
        discount_interval=5000,
        exploration_epsilon=0.6,
        enable_pruning=True,
    )
    hybrid = MCCFRConfig(
        num_iterations=2_000_000,
        time_budget_seconds=48 * 3600,
        enable_chunked_training=True,
        chunk_size_iterations=50_000,
        chunk_size_minutes=30.0,
        checkpoint_interval=10_000,
        discount_mode="dcfr",
        discount_interval=1000,
        exploration_epsilon=0.6,
        enable_pruning=True,
    )
    assert (iterations.chunk_size_iterations, iterations.chunk_size_minutes) == (100_000, None)
    assert (timed.chunk_size_iterations, timed.chunk_size_minutes) == (None, 60.0)
    assert (hybrid.chunk_size_iterations, hybrid.chunk_size_minutes) == (50_000, 30.0)
    path = tmp_path / "run.yaml"
    path.write_text(GUIDE_YAML)
    spec, from_yaml = load_run_config(path)
    assert spec.game == "leduc" and from_yaml == iterations
