"""Hostile and broken config files (holdem_lab/config.py through holdem-train-blueprint):
each is refused in one line naming the field, runs no code and creates no run directory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hostile.runs import one_line_error, train_args, train_in_process

from holdem_lab.cli import exit_codes
from holdem_lab.config import config_from_mapping
from holdem_lab.errors import ConfigError

ALIAS_BOMB = "game_params: {" + ", ".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 6)]
) + "}\nnum_iterations: *a5\n"  # 346 bytes; the value expands to 9**6 = 531441 items

CONFIG_CORPUS: list[Any] = [
    pytest.param("num_iterations: [1, 2\n", "config=", id="malformed-yaml"),
    pytest.param("num_iterations: 10\n\tseed: 1\n", "config=", id="tab-indentation"),
    pytest.param(b"num_iterations: 10\n\xff\xfe\x00\n", "config=", id="not-utf8"),
    pytest.param("- 1\n- 2\n", "config=", id="top-level-list"),
    pytest.param("42\n", "config=", id="top-level-scalar"),
    pytest.param("num_iterations: !!python/object/apply:os.system ['touch {marker}']\n",
                 "config=", id="python-object-apply"),
    pytest.param("num_iterations: !!python/object/new:subprocess.Popen [[touch, '{marker}']]\n",
                 "config=", id="python-object-new"),
    pytest.param("seed: !!python/name:os.system\n", "config=", id="python-name"),
    pytest.param("num_iterations: many\n", "num_iterations=", id="string-for-int"),
    pytest.param("seed: [1]\n", "seed=", id="list-for-int"),
    pytest.param("seed: true\n", "seed=", id="bool-for-int"),
    pytest.param("discount_mode: 5\n", "discount_mode=", id="int-for-choice"),
    pytest.param("enable_pruning: perhaps\n", "enable_pruning=", id="string-for-bool"),
    pytest.param("chunk_size_minutes: {}\n", "chunk_size_minutes=", id="mapping-for-number"),
    pytest.param("epsilon_schedule: [[1, 0.5, 3]]\n", "epsilon_schedule=", id="bad-schedule"),
    pytest.param("epsilon_schedule: [[2, 0.5], [1, 0.5]]\n", "epsilon_schedule=",
                 id="unordered-schedule"),
    pytest.param("game_params: [1]\n", "game_params=", id="list-for-game-params"),
    pytest.param("buckets: 5\n", "buckets=", id="int-for-path"),
    pytest.param("game: ../../etc/passwd\n", "game=", id="path-for-game"),
    pytest.param("time_budget_seconds: .nan\n", "time_budget_seconds=", id="nan"),
    pytest.param("chunk_size_minutes: .inf\n", "chunk_size_minutes=", id="inf"),
    pytest.param("exploration_epsilon: -.inf\n", "exploration_epsilon=", id="minus-inf"),
    pytest.param("num_iterations: .inf\n", "num_iterations=", id="inf-for-int"),
    pytest.param("num_iterations: 1e400\n", "num_iterations=", id="overflowing-literal"),
    pytest.param("num_players: 1000000000000000000000000000000\n", "num_players=",
                 id="huge-player-count"),
    pytest.param("chunk_size: 5\n", "chunk_size=", id="unknown-key"),
    pytest.param("__class__: 1\n", "__class__=", id="dunder-key"),
    pytest.param("1: 2\n", "1=", id="int-key"),
    pytest.param("num_iterations: 10\ndiscount_interval: 100000000000000000000000\n",
                 "discount_interval=", id="int64-overflow-discount-interval"),
    pytest.param("num_iterations: 10\nprune_warmup_iterations: 100000000000000000000000\n",
                 "prune_warmup_iterations=", id="int64-overflow-prune-warmup"),
    pytest.param("num_iterations: 10\ndiscount_stop_iteration: 100000000000000000000000\n",
                 "discount_stop_iteration=", id="int64-overflow-discount-stop"),
    pytest.param("time_budget_seconds: " + "9" * 400 + "\n", "time_budget_seconds=",
                 id="int-beyond-float"),
    pytest.param("num_iterations: 40\ndcfr_alpha: 1.0e+300\n", "dcfr_alpha=",
                 id="overflowing-dcfr-exponent"),
    pytest.param(ALIAS_BOMB, "num_iterations=", id="yaml-alias-bomb"),
]


@pytest.mark.parametrize(("text", "field"), CONFIG_CORPUS)
def test_hostile_config_file_is_refused_in_one_line_naming_the_field(
        text: str | bytes, field: str, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    config_file = tmp_path / "hostile.yaml"
    if isinstance(text, bytes):
        config_file.write_bytes(text)
    else:
        config_file.write_text(text.replace("{marker}", str(marker)))
    before = config_file.read_bytes()
    logdir = tmp_path / "run"
    code, _, err = train_in_process(*train_args(logdir, config_file))
    error = one_line_error(err)
    assert len(error) < 2000, f"{len(error)}-character error line"
    assert code == exit_codes.USAGE, err
    assert f"invalid configuration: {field}" in error
    assert not marker.exists(), "the config file ran code"
    assert not logdir.exists(), "a refused config created the run directory"
    assert config_file.read_bytes() == before


def test_config_keys_of_every_type_are_refused_as_config_errors() -> None:
    for bad in ([1, 2], "text", 3, None):
        with pytest.raises(ConfigError, match="<config>"):
            config_from_mapping(bad)  # type: ignore[arg-type]


def test_an_oversized_config_file_is_refused_unread(tmp_path: Path) -> None:
    config_file = tmp_path / "huge.yaml"
    with config_file.open("wb") as handle:
        handle.truncate(64 << 20)  # sparse: no disk used
    tracemalloc.start()
    try:
        code, _, err = train_in_process(*train_args(tmp_path / "run", config_file))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == exit_codes.USAGE and "config=" in one_line_error(err)
    assert peak < 16 << 20, f"peak {peak / 2**20:.0f} MiB to refuse a config file"
