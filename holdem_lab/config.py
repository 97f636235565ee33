"""Typed, validated configuration.

`MCCFRConfig` carries every solver and chunking setting with the field names of the chunked-training
specification. `GameSpec` names the game a run trains. Both are frozen and keyword-only; every
invalid value raises `ConfigError` naming the field and the value. `load_run_config` reads one flat
YAML file holding the keys of both (unknown keys are errors).
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from holdem_lab.errors import ConfigError

DiscountMode = Literal["none", "linear", "dcfr"]
Sampling = Literal["external", "outcome"]
Engine = Literal["auto", "sharded", "sequential"]
TableDtype = Literal["float64", "float32"]

DISCOUNT_MODES: tuple[str, ...] = ("none", "linear", "dcfr")
SAMPLINGS: tuple[str, ...] = ("external", "outcome")
ENGINES: tuple[str, ...] = ("auto", "sharded", "sequential")
TABLE_DTYPES: tuple[str, ...] = ("float64", "float32")
GAMES: tuple[str, ...] = ("kuhn", "leduc", "holdem")


# Largest integer any setting may hold: iteration counts and intervals must fit the kernels'
# int64 arithmetic with room to add them (and checkpoint names have 12 digits).
MAX_INTEGER = 10**12 - 1
# Exponents beyond this overflow k ** alpha long before any run ends.
MAX_EXPONENT = 100.0
MAX_CONFIG_BYTES = 1 << 20
MAX_BATCH_ITERATIONS = 65_536


def _require_int(name: str, value: object, *, minimum: int | None = None,
                 maximum: int = MAX_INTEGER) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(name, value, "must be an integer")
    if minimum is not None and value < minimum:
        raise ConfigError(name, value, f"must be >= {minimum}")
    if value > maximum:
        raise ConfigError(name, value, f"must be <= {maximum}")


def _require_number(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(name, value, "must be a number")
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise ConfigError(name, value, "must be finite")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ConfigError(name, value, f"must be > {minimum}")
        if not strict_minimum and value < minimum:
            raise ConfigError(name, value, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(name, value, f"must be <= {maximum}")


def _require_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(name, value, "must be true or false")


@dataclass(frozen=True, kw_only=True)
class MCCFRConfig:
    """Everything that decides how MCCFR trains and how a run is cut into chunks.

    Hold'em chunks end with a duplicate-deal match of the blueprint against baseline agents over
    `evaluation_deal_pairs` deal pairs (3 to 6 players: that many deals, each played once per
    seat of the blueprint), and heads-up with local best response (LBR, Lisý & Bowling 2017) over
    `lbr_hands` duplicate deal pairs, the same deals in every chunk (0 turns either off); Kuhn
    and Leduc log exact exploitability instead.

    Totals: `num_iterations` and/or `time_budget_seconds` (training is complete when either is
    reached). Chunks: `chunk_size_iterations` and/or `chunk_size_minutes` (a chunk ends when either
    is reached). Interval checkpoints: `checkpoint_interval` (iterations) and/or
    `snapshot_interval_seconds`.

    Sampling (Lanctot et al. 2009): `external` explores every traverser action and samples chance
    and opponents; `outcome` samples one trajectory, the traverser from
    epsilon*uniform + (1-epsilon)*sigma. `exploration_epsilon` (and `epsilon_schedule`) only act in
    outcome sampling; external sampling records them but never explores off-policy.

    Discounting every `discount_interval` iterations: `linear` multiplies regrets and strategy sums
    by k/(k+1) at discount step k (Linear CFR, Brown & Sandholm 2019, as Pluribus applied it);
    `dcfr` multiplies positive regrets by k^a/(k^a+1), negative ones by k^b/(k^b+1) and the
    strategy sum by (k/(k+1))^g. `discount_stop_iteration` ends discounting (Pluribus stopped after
    its first 400 minutes). The default, linear every 100 iterations, is the setting with the
    lowest Leduc exploitability at equal wall time in the sweep of bench/bench_sweep.py (the
    README's table; DCFR with a = b = g = 1 is the same discount).

    Engine: `sharded` trains in batches of `batch_iterations` iterations cut into `shards` shards,
    each with its own random stream, run against the tables as they were at the batch start and
    merged in shard order, so `num_workers` threads (None: every core the process may use) give
    the same tables bit for bit whatever their number; discount steps, logging and checkpoints
    fall on batch boundaries. None picks both sizes from the game's infoset count
    (holdem_lab.solver.batch_sizes). `sequential` is the one-stream algorithm that updates after
    every iteration, on one core. `auto` (the default) is sharded for Hold'em-sized games and
    sequential for games too small for a batch to keep its accuracy (Kuhn, Leduc; see
    holdem_lab.solver.resolve_engine).
    `ray_address` (`auto` or HOST:PORT) runs the sharded engine's shards on the nodes of a
    running Ray cluster instead of this process's threads, to the same tables bit for bit
    (holdem_lab.solver.cluster); it may change between chunks.

    Tables: `table_dtype` float64 (the default) or float32 for the regrets: float32 halves them
    and rounds each stored value to a relative 6e-8, which regrets can afford (their positive
    part, the one that plays, grows only like the square root of the iterations); strategy
    sums stay float64, since they grow with every visit and float32 would soon round their new
    contributions away. `average_rounds` keeps
    strategy sums only on those betting rounds (Hold'em; None: every round): the blueprint plays
    the average strategy there and the current strategy (regret matching) on the others, as
    Pluribus did with preflop only, whose tree is a small share of the infosets.

    Pruning (Pluribus): after `prune_warmup_iterations`, each iteration is pruned with probability
    `prune_probability`; in a pruned iteration the traverser skips actions whose regret is below
    `prune_threshold`, except on the last betting round and for actions that end the hand.
    `regret_floor` bounds regrets from below so pruned actions can recover. The threshold is in
    chips: Pluribus used -300M with 10k-chip stacks (30,000 stacks), which the default Hold'em
    config scales to its 200-chip stacks (-6M).
    """

    num_iterations: int | None = None
    time_budget_seconds: float | None = None
    checkpoint_interval: int | None = None
    snapshot_interval_seconds: float | None = None
    tensorboard_log_interval: int = 1000
    exploitability_interval: int | None = None
    evaluation_deal_pairs: int = 2000
    lbr_hands: int = 1500

    sampling: Sampling = "external"
    exploration_epsilon: float = 0.6
    epsilon_schedule: tuple[tuple[int, float], ...] = ()

    discount_mode: DiscountMode = "linear"
    dcfr_alpha: float = 1.5
    dcfr_beta: float = 0.0
    dcfr_gamma: float = 2.0
    discount_interval: int = 100
    discount_stop_iteration: int | None = None

    enable_pruning: bool = False
    prune_threshold: float = -300_000.0
    prune_probability: float = 0.95
    prune_warmup_iterations: int = 10_000
    regret_floor: float | None = None

    enable_chunked_training: bool = False
    chunk_size_iterations: int | None = None
    chunk_size_minutes: float | None = None

    table_dtype: TableDtype = "float64"
    average_rounds: tuple[int, ...] | None = None
    engine: Engine = "auto"
    batch_iterations: int | None = None
    shards: int | None = None
    num_workers: int | None = None
    ray_address: str | None = None
    num_players: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        # Normalise list-of-lists (as YAML gives it) into a tuple of pairs before validating.
        schedule = self.epsilon_schedule
        if isinstance(schedule, list | tuple):
            try:
                normalised = tuple((pair[0], pair[1]) for pair in schedule)
            except (TypeError, IndexError, KeyError):
                raise ConfigError(
                    "epsilon_schedule", schedule, "must be a list of [iteration, epsilon] pairs"
                ) from None
            if any(len(pair) != 2 for pair in schedule):
                raise ConfigError(
                    "epsilon_schedule", schedule, "must be a list of [iteration, epsilon] pairs"
                )
            object.__setattr__(self, "epsilon_schedule", normalised)
        if isinstance(self.average_rounds, list):
            object.__setattr__(self, "average_rounds", tuple(self.average_rounds))
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError for the first invalid field."""
        for name in ("num_iterations", "checkpoint_interval", "exploitability_interval",
                     "chunk_size_iterations", "discount_stop_iteration"):
            value = getattr(self, name)
            if value is not None:
                _require_int(name, value, minimum=1)
        for name in ("time_budget_seconds", "snapshot_interval_seconds", "chunk_size_minutes"):
            value = getattr(self, name)
            if value is not None:
                _require_number(name, value, minimum=0.0, strict_minimum=True)
        _require_int("tensorboard_log_interval", self.tensorboard_log_interval, minimum=1)
        for name in ("evaluation_deal_pairs", "lbr_hands"):
            _require_int(name, getattr(self, name), minimum=0)
            if getattr(self, name) == 1:
                raise ConfigError(name, 1,
                                  "must be 0 (off) or >= 2 (a confidence interval needs two)")

        if self.sampling not in SAMPLINGS:
            raise ConfigError("sampling", self.sampling, f"must be one of {', '.join(SAMPLINGS)}")
        _require_number("exploration_epsilon", self.exploration_epsilon, minimum=0.0,
                        maximum=1.0, strict_minimum=True)
        previous = -1
        if not isinstance(self.epsilon_schedule, tuple):
            raise ConfigError("epsilon_schedule", self.epsilon_schedule,
                              "must be a list of [iteration, epsilon] pairs")
        for iteration, epsilon in self.epsilon_schedule:
            _require_int("epsilon_schedule", iteration, minimum=0)
            _require_number("epsilon_schedule", epsilon, minimum=0.0, maximum=1.0,
                            strict_minimum=True)
            if iteration <= previous:
                raise ConfigError("epsilon_schedule", self.epsilon_schedule,
                                  "iterations must be strictly increasing")
            previous = iteration

        if self.discount_mode not in DISCOUNT_MODES:
            raise ConfigError("discount_mode", self.discount_mode,
                              f"must be one of {', '.join(DISCOUNT_MODES)}")
        _require_number("dcfr_alpha", self.dcfr_alpha, minimum=0.0, maximum=MAX_EXPONENT)
        _require_number("dcfr_beta", self.dcfr_beta, minimum=-MAX_EXPONENT,
                        maximum=MAX_EXPONENT)
        _require_number("dcfr_gamma", self.dcfr_gamma, minimum=0.0, maximum=MAX_EXPONENT)
        _require_int("discount_interval", self.discount_interval, minimum=1)

        _require_bool("enable_pruning", self.enable_pruning)
        _require_number("prune_threshold", self.prune_threshold)
        if self.prune_threshold >= 0:
            raise ConfigError("prune_threshold", self.prune_threshold, "must be negative")
        _require_number("prune_probability", self.prune_probability, minimum=0.0, maximum=1.0)
        _require_int("prune_warmup_iterations", self.prune_warmup_iterations, minimum=0)
        if self.regret_floor is not None:
            _require_number("regret_floor", self.regret_floor)
            if self.regret_floor >= 0:
                raise ConfigError("regret_floor", self.regret_floor, "must be negative")
            if self.enable_pruning and self.regret_floor > self.prune_threshold:
                raise ConfigError("regret_floor", self.regret_floor,
                                  f"must be <= prune_threshold ({self.prune_threshold}), or "
                                  "pruned actions could never fall below the threshold",
                                  related=("prune_threshold",))

        _require_bool("enable_chunked_training", self.enable_chunked_training)
        if self.enable_chunked_training:
            if self.chunk_size_iterations is None and self.chunk_size_minutes is None:
                raise ConfigError("enable_chunked_training", True,
                                  "needs chunk_size_iterations and/or chunk_size_minutes",
                                  related=("chunk_size_iterations", "chunk_size_minutes"))
            if self.num_iterations is None and self.time_budget_seconds is None:
                raise ConfigError("enable_chunked_training", True,
                                  "needs a total: num_iterations and/or time_budget_seconds",
                                  related=("num_iterations", "time_budget_seconds"))

        if self.table_dtype not in TABLE_DTYPES:
            raise ConfigError("table_dtype", self.table_dtype,
                              f"must be one of {', '.join(TABLE_DTYPES)}")
        if self.average_rounds is not None:
            rounds = self.average_rounds
            if not isinstance(rounds, tuple) or not rounds or any(
                    isinstance(r, bool) or not isinstance(r, int) or not 0 <= r <= 3
                    for r in rounds) or list(rounds) != sorted(set(rounds)):
                raise ConfigError("average_rounds", rounds,
                                  "must be null (every round) or increasing betting rounds "
                                  "from 0 (preflop) to 3 (river), e.g. [0]")
        if self.engine not in ENGINES:
            raise ConfigError("engine", self.engine, f"must be one of {', '.join(ENGINES)}")
        # A batch is the unit a stop waits for and its logs grow with it: keep it bounded.
        for name, most in (("batch_iterations", MAX_BATCH_ITERATIONS), ("shards", 4096),
                           ("num_workers", 4096)):
            if getattr(self, name) is not None:
                _require_int(name, getattr(self, name), minimum=1, maximum=most)
        if self.batch_iterations is not None and self.shards is not None \
                and self.batch_iterations % self.shards:
            raise ConfigError("batch_iterations", self.batch_iterations,
                              f"must be a multiple of shards ({self.shards})",
                              related=("shards",))
        if self.engine == "sequential" and (self.num_workers or 1) != 1:
            raise ConfigError("num_workers", self.num_workers,
                              "the sequential engine runs on one core: use engine: sharded "
                              "for more workers", related=("engine",))
        if self.ray_address is not None:
            _check_ray_address(self.ray_address)
            if self.engine == "sequential":
                raise ConfigError("ray_address", self.ray_address,
                                  "a Ray cluster runs the sharded engine's shards: use engine: "
                                  "sharded (or auto on a Hold'em game)", related=("engine",))
        _require_int("num_players", self.num_players, minimum=2)
        if self.num_players > 6:
            raise ConfigError("num_players", self.num_players, "must be <= 6")
        _require_int("seed", self.seed, minimum=0)

    def epsilon_at(self, iteration: int) -> float:
        """Outcome-sampling exploration at a (1-based) iteration: the last schedule entry at or
        before it, else `exploration_epsilon`."""
        value = float(self.exploration_epsilon)
        for start, epsilon in self.epsilon_schedule:
            if iteration >= start:
                value = float(epsilon)
            else:
                break
        return value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (schedule as lists)."""
        data = dataclasses.asdict(self)
        data["epsilon_schedule"] = [list(pair) for pair in self.epsilon_schedule]
        if self.average_rounds is not None:
            data["average_rounds"] = list(self.average_rounds)
        return data

    def replace(self, **changes: Any) -> MCCFRConfig:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class GameSpec:
    """Which game a run trains: `game` in kuhn/leduc/holdem, its parameters, and a bucket file."""

    game: str = "leduc"
    game_params: Mapping[str, Any] = field(default_factory=dict)
    buckets: str | None = None

    def __post_init__(self) -> None:
        if self.game not in GAMES:
            raise ConfigError("game", self.game, f"must be one of {', '.join(GAMES)}")
        if not isinstance(self.game_params, Mapping):
            raise ConfigError("game_params", self.game_params, "must be a mapping")
        if self.game != "holdem" and self.game_params.get("num_players", 2) != 2:
            raise ConfigError("game_params", dict(self.game_params),
                              f"num_players={self.game_params.get('num_players')!r}: the game "
                              f"{self.game!r} is a 2-player game here (only holdem takes 2 to 6 "
                              "players)", related=("game",))
        if self.buckets is not None and not isinstance(self.buckets, str):
            raise ConfigError("buckets", self.buckets, "must be a path")
        if self.buckets is not None and self.game != "holdem":
            raise ConfigError("buckets", self.buckets,
                              f"only Hold'em uses a bucket file, and the game is {self.game}",
                              related=("game",))
        if self.buckets is not None:
            # Recorded absolute, so a checkpoint names its bucket file from any directory.
            object.__setattr__(self, "buckets", os.path.abspath(os.path.expanduser(self.buckets)))

    @property
    def num_players(self) -> int:
        """The game's player count, the one source every other count follows: Hold'em's
        ``game_params.num_players`` (2 when absent); Kuhn and Leduc are 2-player games here."""
        count = self.game_params.get("num_players", 2)
        if isinstance(count, bool) or not isinstance(count, int):
            raise ConfigError("game_params", dict(self.game_params),
                              f"num_players={count!r} must be an integer")
        return count

    def to_dict(self) -> dict[str, Any]:
        return {"game": self.game, "game_params": dict(self.game_params), "buckets": self.buckets}

    @classmethod
    def from_dict(cls, data: object) -> GameSpec:
        """The GameSpec :meth:`to_dict` wrote (a checkpoint's ``game_spec``)."""
        if not isinstance(data, Mapping):
            raise ConfigError("game_spec", data, "must be a mapping (game, game_params, buckets)")
        return cls(game=data.get("game", "leduc"), game_params=data.get("game_params") or {},
                   buckets=data.get("buckets"))


MCCFR_FIELDS: frozenset[str] = frozenset(f.name for f in dataclasses.fields(MCCFRConfig))


def config_default(name: str) -> Any:
    """The default of an MCCFRConfig field (what a run gets when neither YAML nor a flag sets
    it), for help texts."""
    for f in dataclasses.fields(MCCFRConfig):
        if f.name == name:
            return f.default
    raise KeyError(name)
GAME_FIELDS: frozenset[str] = frozenset(f.name for f in dataclasses.fields(GameSpec))


@dataclass(frozen=True)
class SettingFlag:
    """How a command line and the chunk notebook set one config field: the flag of
    ``holdem-train-blueprint`` (``holdem-lab chunks`` uses the same spelling for those it has)
    and the notebook's papermill parameter, where it takes one."""

    field: str
    flag: str
    notebook_parameter: str | None = None

    @property
    def dest(self) -> str:
        """The attribute argparse stores the flag's value under."""
        return self.flag.removeprefix("--").replace("-", "_")


SETTING_FLAGS: tuple[SettingFlag, ...] = (
    SettingFlag("num_iterations", "--iters", "num_iterations"),
    SettingFlag("time_budget_seconds", "--time-budget"),
    SettingFlag("enable_chunked_training", "--chunked"),
    SettingFlag("chunk_size_iterations", "--chunk-iterations", "chunk_iterations"),
    SettingFlag("chunk_size_minutes", "--chunk-minutes", "chunk_minutes"),
    SettingFlag("checkpoint_interval", "--checkpoint-interval"),
    SettingFlag("snapshot_interval_seconds", "--snapshot-interval"),
    SettingFlag("discount_interval", "--discount-interval"),
    SettingFlag("discount_mode", "--discount-mode"),
    SettingFlag("exploration_epsilon", "--epsilon"),
    SettingFlag("num_players", "--num-players"),
    SettingFlag("seed", "--seed", "seed"),
    SettingFlag("sampling", "--sampling"),
    SettingFlag("tensorboard_log_interval", "--tensorboard-interval"),
    SettingFlag("exploitability_interval", "--exploitability-interval"),
    SettingFlag("lbr_hands", "--lbr-hands"),
    SettingFlag("dcfr_alpha", "--dcfr-alpha"),
    SettingFlag("dcfr_beta", "--dcfr-beta"),
    SettingFlag("dcfr_gamma", "--dcfr-gamma"),
    SettingFlag("enable_pruning", "--pruning"),
    SettingFlag("prune_warmup_iterations", "--prune-warmup"),
    SettingFlag("prune_threshold", "--prune-threshold"),
    SettingFlag("prune_probability", "--prune-probability"),
    SettingFlag("regret_floor", "--regret-floor"),
    SettingFlag("table_dtype", "--table-dtype"),
    SettingFlag("average_rounds", "--average-rounds"),
    SettingFlag("engine", "--engine"),
    SettingFlag("batch_iterations", "--batch-iterations"),
    SettingFlag("shards", "--shards"),
    SettingFlag("num_workers", "--workers", "workers"),
    SettingFlag("ray_address", "--ray-address", "ray_address"),
    SettingFlag("game", "--game", "game"),
    SettingFlag("buckets", "--buckets"),
)
"""The one table of config field -> command-line flag -> chunk-notebook parameter."""

FIELD_FLAGS: dict[str, str] = {row.field: row.flag for row in SETTING_FLAGS}
"""Config field -> the flag that sets it."""

NOTEBOOK_OVERRIDE_FIELDS: dict[str, str] = {
    row.notebook_parameter: row.field for row in SETTING_FLAGS if row.notebook_parameter}
"""Chunk-notebook parameter -> the config field it overrides."""


def _check_ray_address(address: object) -> None:
    """`auto` (the cluster this machine belongs to) or HOST:PORT of a running Ray head."""
    if not isinstance(address, str):
        raise ConfigError("ray_address", address, "must be auto or HOST:PORT")
    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    if not host or any(c.isspace() for c in host) or "/" in host or not port.isdigit() \
            or not 0 < int(port) < 65536:
        raise ConfigError("ray_address", address,
                          "must be auto or HOST:PORT of a running Ray head (e.g. 10.0.0.1:6379)")


def _coerce_numbers(values: dict[str, Any]) -> dict[str, Any]:
    """YAML 1.1 reads `1e6` as a string; accept such scientific literals for numeric fields."""
    numeric = {f.name for f in dataclasses.fields(MCCFRConfig)
               if "int" in str(f.type) or "float" in str(f.type)}
    out = dict(values)
    for key, value in values.items():
        if key in numeric and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                continue
            out[key] = int(number) if number.is_integer() and "int" in _field_type(key) else number
    for key, value in out.items():
        if key in numeric and isinstance(value, float) and value.is_integer() \
                and "float" not in _field_type(key):
            out[key] = int(value)
    return out


def _field_type(name: str) -> str:
    for f in dataclasses.fields(MCCFRConfig):
        if f.name == name:
            return str(f.type)
    return ""


def config_from_mapping(values: Mapping[str, Any]) -> tuple[GameSpec, MCCFRConfig]:
    """Build (GameSpec, MCCFRConfig) from one flat mapping; unknown keys raise ConfigError.

    A mapping with ``buckets`` but no ``game`` trains Hold'em, the one game with buckets."""
    if not isinstance(values, Mapping):
        raise ConfigError("<config>", values, "must be a mapping of field names to values")
    for key in values:
        if not isinstance(key, str) or key not in MCCFR_FIELDS | GAME_FIELDS:
            known = ", ".join(sorted(MCCFR_FIELDS | GAME_FIELDS))
            raise ConfigError(str(key), values[key], f"unknown key (known keys: {known})")
    values = _coerce_numbers(dict(values))
    game_values = {k: v for k, v in values.items() if k in GAME_FIELDS}
    if game_values.get("buckets") is not None and "game" not in game_values:
        game_values["game"] = "holdem"  # only Hold'em has buckets (the guide gives no --game)
    solver_values = {k: v for k, v in values.items() if k in MCCFR_FIELDS}
    spec = GameSpec(**_with_player_count(game_values, solver_values.get("num_players")))
    solver_values["num_players"] = spec.num_players
    return spec, MCCFRConfig(**solver_values)


def _with_player_count(game_values: dict[str, Any], requested: object) -> dict[str, Any]:
    """The game's values with the top-level ``num_players`` (the YAML key or
    ``--num-players``) carried into the game's own count, which it must not contradict."""
    if requested is None:
        return game_values
    if isinstance(requested, bool) or not isinstance(requested, int):
        raise ConfigError("num_players", requested, "must be an integer")
    game = game_values.get("game", "leduc")
    params = game_values.get("game_params")
    params = dict(params) if isinstance(params, Mapping) else params
    if game != "holdem":
        if requested != 2:
            raise ConfigError("num_players", requested,
                              f"the game {game!r} is a 2-player game here (only holdem takes "
                              "2 to 6 players)", related=("game",))
        return game_values
    if not isinstance(params, dict):
        params = {} if params is None else params
        if not isinstance(params, dict):
            return game_values  # GameSpec refuses it with its own message
    own = params.get("num_players")
    if own is None:
        return {**game_values, "game_params": {**params, "num_players": requested}}
    if own != requested:
        raise ConfigError("num_players", requested,
                          f"the top-level num_players (or --num-players) contradicts the game's "
                          f"game_params.num_players={own!r}; the game's count is the one "
                          "source: set one of them, or both to the same value",
                          related=("game_params",))
    return game_values


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping (empty file = empty mapping)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ConfigError("config", str(path), f"cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError("config", str(path), "is not a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError("config", str(path),
                              f"is {info.st_size} bytes; a config is at most {MAX_CONFIG_BYTES}")
        raw = os.read(fd, MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError("config", str(path), f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("config", str(path), "is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("config", str(path), f"is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("config", str(path), "must hold a mapping of field names to values")
    return data


def load_run_config(path: str | Path, overrides: Mapping[str, Any] | None = None
                    ) -> tuple[GameSpec, MCCFRConfig]:
    """Load a flat YAML run config; `overrides` (e.g. from CLI flags) win over the file."""
    values = load_yaml_mapping(path)
    if overrides:
        values.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_mapping(values)
