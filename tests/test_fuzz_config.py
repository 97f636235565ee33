"""Fuzzing the two ways settings come in: config mappings (as a YAML file gives them) and the
training command's argument list. Whatever comes in, the only failures allowed are the
documented ones: a ConfigError naming a field, or a clean exit with one error line."""

from __future__ import annotations

import contextlib
import io
import signal
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holdem_lab.cli import exit_codes
from holdem_lab.cli.train import main
from holdem_lab.config import GAME_FIELDS, MCCFR_FIELDS, config_from_mapping
from holdem_lab.errors import ConfigError

KNOWN = sorted(MCCFR_FIELDS | GAME_FIELDS)
PREFIX = "holdem-train-blueprint: error: "

# Integers stay within what a YAML file realistically holds next to these fields (|n| < 2**64);
# integers beyond float range are a known, separately tested refusal gap (test_config_hostile).
integers = st.integers(-(2**64), 2**64)
floats = st.floats(allow_nan=True, allow_infinity=True)
scalars = st.one_of(st.none(), st.booleans(), integers, floats, st.text(max_size=12),
                    st.sampled_from(["1e6", "1e400", "nan", "-inf", "external", "outcome",
                                     "dcfr", "linear", "none", "leduc", "kuhn", "holdem"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)
keys = st.one_of(st.sampled_from(KNOWN), st.text(max_size=10), integers)


def _config_or_config_error(mapping: dict[Any, Any]) -> None:
    try:
        config_from_mapping(mapping)
    except ConfigError as exc:
        assert exc.field in KNOWN or exc.field in {str(k) for k in mapping}, exc.field
        assert str(exc).startswith(f"{exc.field}="), str(exc)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mapping=st.dictionaries(keys, values, max_size=8))
def test_any_mapping_is_a_config_or_a_config_error_naming_a_field(
        mapping: dict[Any, Any]) -> None:
    _config_or_config_error(mapping)


@settings(max_examples=300)
@given(pairs=st.lists(st.tuples(st.sampled_from(KNOWN), values), max_size=6))
def test_known_keys_with_any_values(pairs: list[tuple[str, Any]]) -> None:
    _config_or_config_error(dict(pairs))


# ------------------------------------------------------------------------------------------
# The command line

JUNK = st.one_of(st.integers(-3, 0).map(str),
                st.floats(allow_nan=True, allow_infinity=True).map(str),
                st.sampled_from(["", "x", "1e3", "nan", "-inf", "0x10", "１２", "--", "1_000",
                                 "99999999999999999999999"]))


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """Valid values seven times out of eight, junk otherwise."""
    return st.one_of(*[valid.map(str)] * 7, JUNK)


FLAG_VALUES: dict[str, st.SearchStrategy[str]] = {
    "--game": st.sampled_from(["kuhn", "leduc"] * 4 + ["poker", "", "../leduc"]),
    "--iters": _mostly(st.integers(1, 60)),  # overridden by the final --iters (see below)
    "--time-budget": _mostly(st.floats(1e-6, 1e6)),
    "--chunk-iterations": _mostly(st.integers(1, 50)),
    "--chunk-minutes": _mostly(st.floats(1e-3, 100)),
    "--checkpoint-interval": _mostly(st.integers(1, 30)),
    "--snapshot-interval": _mostly(st.floats(1e-3, 1e3)),
    "--keep-last": _mostly(st.integers(1, 3)),
    "--sampling": st.sampled_from(["external", "outcome", "external", "outcome", "both"]),
    "--epsilon": _mostly(st.floats(0.01, 1.0)),
    "--discount-mode": st.sampled_from(["none", "linear", "dcfr", "none", "linear", "DCFR"]),
    "--discount-interval": _mostly(st.integers(1, 10**6)),
    "--seed": _mostly(st.integers(0, 2**64)),
    "--num-players": st.sampled_from(["2"] * 6 + ["3", "0"]),
    "--tensorboard-interval": _mostly(st.integers(1, 100)),
    "--exploitability-interval": _mostly(st.integers(10, 100)),
    "--buckets": st.sampled_from(["/dev/zero", "/no/such/buckets.npz", ""]),
    "--config": st.sampled_from(["{good}"] * 8 + ["{malformed}", "{tagged}", "{listed}",
                                                  "/no/such/run.yaml", "{directory}"]),
}
GOOD_FLAGS = ["--chunked", "--no-tensorboard", "--no-progress"]
BAD_FLAGS = ["--bogus", "-x", "positional", "--iters=", "--chunk-minutes=-1", "--logdir"]

pair = st.sampled_from(sorted(FLAG_VALUES)).flatmap(
    lambda flag: FLAG_VALUES[flag].map(lambda value: [flag, value]))
argument = st.one_of(*[pair] * 6, st.sampled_from(GOOD_FLAGS).map(lambda f: [f]),
                     st.sampled_from(BAD_FLAGS).map(lambda f: [f]))
# The final --iters: a small valid total seven times out of eight.
totals = st.one_of(*[st.integers(1, 40)] * 7, st.integers(-2, 0))
# Half of the command lines run in chunks of a few iterations.
chunking: st.SearchStrategy[list[str]] = st.one_of(st.just([]), st.integers(1, 30).map(
    lambda n: ["--chunked", "--chunk-iterations", str(n)]))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("fuzz-files")
    texts = {
        "good": "num_iterations: 30\nseed: 3\n",
        "malformed": "num_iterations: [30\n",
        "tagged": "seed: !!python/object/apply:os.getpid []\n",
        "listed": "- num_iterations\n",
    }
    paths = {}
    for name, text in texts.items():
        (root / f"{name}.yaml").write_text(text)
        paths[name] = str(root / f"{name}.yaml")
    (root / "directory").mkdir()
    paths["directory"] = str(root / "directory")
    paths["root"] = str(root)
    return paths


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def _end_cleanly(files: dict[str, str], parts: list[list[str]], chunks: list[str], total: int,
                 shared: bool) -> int:
    """Run one fuzzed command line and check how it ended; returns its exit code."""
    root = Path(files["root"])
    logdir = root / "shared" if shared else Path(tempfile.mkdtemp(dir=root))
    args = ["--logdir", str(logdir), "--no-tensorboard", "--no-progress"]
    for part in parts:
        args += [p.format(**files) for p in part]
    args += [*chunks, "--iters", str(total)]
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    code: int | str | None
    with _captured() as (_, err):
        try:
            code = main(args)
            via_argparse = False
        except SystemExit as exc:
            code, via_argparse = exc.code, True
    assert {s: signal.getsignal(s) for s in handlers} == handlers, "signal handlers leaked"
    stderr = err.getvalue()
    assert "Traceback" not in stderr, stderr
    assert isinstance(code, int)
    if via_argparse:
        assert code == exit_codes.USAGE
        assert stderr.splitlines()[-1].startswith(PREFIX), stderr
        return code
    assert code in exit_codes.DESCRIPTIONS and code != exit_codes.ERROR, (code, stderr)
    if code in (exit_codes.CHUNK_DONE, exit_codes.COMPLETE, exit_codes.STOPPED):
        assert stderr == ""
    else:
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(PREFIX), stderr
    return code


def test_random_command_lines_end_cleanly(files: dict[str, str]) -> None:
    """Any argument list ends with argparse's usage error (2) or one of the documented exit
    codes and, on failure, one error line; never a traceback. A tiny total is appended (the
    last --iters wins) so every accepted run finishes in milliseconds; a shared run directory
    now and then makes runs meet checkpoints of other settings. Both refusals and finished
    runs must have been seen, or the fuzz is not exploring."""
    outcomes: Counter[int] = Counter()

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(parts=st.lists(argument, max_size=4), chunks=chunking, total=totals,
           shared=st.booleans())
    def run(parts: list[list[str]], chunks: list[str], total: int, shared: bool) -> None:
        outcomes[_end_cleanly(files, parts, chunks, total, shared)] += 1

    run()
    assert {exit_codes.USAGE, exit_codes.COMPLETE} <= set(outcomes), outcomes
    finished = outcomes[exit_codes.COMPLETE] + outcomes[exit_codes.CHUNK_DONE]
    assert sum(outcomes.values()) >= 100 and finished >= 15, outcomes
