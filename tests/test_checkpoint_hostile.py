"""Files planted in a run's checkpoint directory, read and written through the chunk runner
and holdem-train-blueprint: each hostile checkpoint is refused in one line, runs no code and
changes nothing; odd names and symlinks are ignored or replaced, never followed.
"""

from __future__ import annotations

import contextlib
import json
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hostile import forge
from hostile.runs import (
    CHECKPOINTS,
    CONFIG,
    SETTINGS,
    SPEC,
    assert_same_state,
    checkpoint_files,
    copy_run,
    one_line_error,
    quiet_chunk,
    run_to_completion,
    snapshot,
    temp_files,
    train_args,
    train_in_process,
    write_settings,
)

from holdem_lab import Solver
from holdem_lab.checkpoint import (
    FORMAT_VERSION,
    CheckpointInfo,
    find_latest_complete,
    list_checkpoints,
    load_checkpoint,
)
from holdem_lab.chunks import ChunkStatus
from holdem_lab.cli import exit_codes
from holdem_lab.errors import CheckpointError

# ------------------------------------------------------------------------------------------
# Hostile and broken inputs: files planted in the checkpoint directory
#
# Each case turns the run's only checkpoint (iteration 20) into something hostile whose
# metadata still vouches for it (sizes, sha256 and the metadata self-hash recomputed), so the
# bytes reach the parsers. The command must refuse with exit code 4 and one line naming the
# problem, run no code, stay within a small memory budget and leave every file as it was.

Mutation = Callable[[CheckpointInfo, Path], None]


def _state(info: CheckpointInfo) -> dict[str, np.ndarray[Any, Any]]:
    return dict(load_checkpoint(info).state)


def _policy(info: CheckpointInfo) -> dict[str, np.ndarray[Any, Any]]:
    return dict(load_checkpoint(info).policy)


def _swap_arrays(role: str, change: Callable[[dict[str, np.ndarray[Any, Any]]], None]
                 ) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        arrays = _state(info) if role == "state" else _policy(info)
        change(arrays)
        forge.replace_payload(info, role, forge.npz_bytes(arrays), forge.listing(arrays))
    return mutate


def _swap_bytes(role: str, make: Callable[[CheckpointInfo, Path], bytes]) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        forge.replace_payload(info, role, make(info, marker))
    return mutate


def _set_field(key: str, value: Any) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        forge.rewrite_metadata(info, lambda document: document.__setitem__(key, value))
    return mutate


def _edit(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        forge.rewrite_metadata(info, change)
    return mutate


def _raw_metadata(make: Callable[[Path], None]) -> Mutation:
    def mutate(info: CheckpointInfo, marker: Path) -> None:
        info.metadata_path.unlink()
        make(info.metadata_path)
    return mutate


def _sparse(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with path.open("wb") as handle:
            handle.truncate(size)
    return make


def _text(text: str | bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(text.encode() if isinstance(text, str) else text)
    return make


def _nan_regrets(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["regrets"][3, 1] = np.nan


def _inf_policy(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["average_policy"][0, 0] = np.inf


def _small_regrets(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["regrets"] = np.zeros((3, 3))


def _float32_regrets(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["regrets"] = arrays["regrets"].astype(np.float32)


def _2d_stats(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["stats"] = np.zeros((3, 8), dtype=np.int64)  # the kernel would write past it


def _float_stats(arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    arrays["stats"] = arrays["stats"] + 0.5


def _zip_bomb(info: CheckpointInfo, marker: Path) -> bytes:
    header = forge.npy_header_bytes((2 << 20,))  # 16 MiB of float64 zeros, deflated to ~16 KiB
    return forge.zip_bytes({"average_policy.npy": header + bytes(16 << 20)},
                           compression=zipfile.ZIP_DEFLATED)


def _escaping_member(info: CheckpointInfo, marker: Path) -> bytes:
    return forge.zip_bytes({"../../escape.npy": info.policy_path.read_bytes()[:64]})


def _deep(path: Path) -> None:
    path.write_text("[" * 200_000 + "]" * 200_000)


CHECKPOINT_CORPUS: dict[str, tuple[Mutation, str]] = {
    # payloads
    "pickle-as-policy": (_swap_bytes("policy", lambda i, m: forge.pickle_bytes(m)),
                         "not a valid npz"),
    "pickle-as-regrets": (_swap_bytes("state", lambda i, m: forge.pickle_bytes(m)),
                          "not a valid npz"),
    "object-array-npz": (_swap_bytes("policy", lambda i, m: forge.object_npz_bytes(m)),
                         "holds Python objects"),
    "absurd-shape-header": (_swap_bytes("policy", lambda i, m: forge.absurd_shape_npz()),
                            "header claims"),
    "lying-zip-directory": (_swap_bytes("policy", lambda i, m: forge.lying_zip_directory(
        _policy(i)["average_policy"])), "past end of file"),
    "zip-bomb-member": (_swap_bytes("policy", _zip_bomb), "compressed"),
    "member-name-escapes": (_swap_bytes("policy", _escaping_member), "must start with"),
    "nan-in-regrets": (_swap_arrays("state", _nan_regrets), "NaN or infinity"),
    "inf-in-policy": (_swap_arrays("policy", _inf_policy), "NaN or infinity"),
    "regrets-of-another-game": (_swap_arrays("state", _small_regrets), "regrets: shape (3, 3)"),
    "float32-regrets": (_swap_arrays("state", _float32_regrets), "dtype float32"),
    "stats-2d": (_swap_arrays("state", _2d_stats), "stats: shape (3, 8)"),
    "stats-float": (_swap_arrays("state", _float_stats), "stats: shape (4,) dtype float64"),
    # metadata as bytes
    "metadata-65-MiB": (_raw_metadata(_sparse(65 << 20)), "is too large"),
    "metadata-deeply-nested": (_raw_metadata(_deep), "not valid JSON"),
    "metadata-not-object": (_raw_metadata(_text("[]")), "not a JSON object"),
    "metadata-nan-literal": (_raw_metadata(_text('{"iteration": NaN}')), "not valid JSON"),
    "metadata-not-utf8": (_raw_metadata(_text(b'{"a": "\xff\xfe"}')), "not valid JSON"),
    "metadata-deleted": (_raw_metadata(lambda path: None), "metadata missing"),
    "metadata-edited-unsealed": (_raw_metadata(_text(json.dumps({
        "format_version": 1, "iteration": 20, "files": {}, "metadata_sha256": "0" * 64}))),
        "metadata_sha256 does not match"),
    # metadata fields, resealed
    "format-version-newer": (_set_field("format_version", FORMAT_VERSION + 1),
                             "written by a newer format_version"),
    "format-version-string": (_set_field("format_version", "1"), "unsupported format_version"),
    "iteration-string": (_set_field("iteration", "20"), "iteration mismatch"),
    "iteration-float": (_set_field("iteration", 20.0), "iteration mismatch"),
    "iteration-bool": (_set_field("iteration", True), "iteration mismatch"),
    "rng-state-string": (_set_field("rng_state", "hello"), "'rng_state' must be a JSON object"),
    "rng-state-other-generator": (_set_field("rng_state", {"bit_generator": "MT19937"}),
                                  "rng_state is for 'MT19937'"),
    "rng-state-garbage-number": (_edit(lambda d: d["rng_state"]["state"].update(state="zz")),
                                 "invalid literal for int()"),
    "rng-state-beyond-uint128": (_edit(lambda d: d["rng_state"]["state"].update(
        state=str(2**200))), "cannot restore the solver state"),
    "rng-state-missing-key": (_edit(lambda d: d["rng_state"].pop("state")), "missing key"),
    "discount-steps-fraction": (_set_field("discount_steps", 1.5), "'discount_steps' must be"),
    "discount-steps-negative": (_set_field("discount_steps", -5), "'discount_steps' must be"),
    "chunk-index-huge": (_set_field("chunk_index", 10**400), "'chunk_index' must be"),
    "elapsed-list": (_set_field("elapsed_seconds", []), "'elapsed_seconds' must be"),
    "config-list": (_set_field("config", [1]), "'config' must be a JSON object"),
    "game-identity-missing": (_edit(lambda d: d.pop("game_identity")), "'game_identity'"),
    "chunks-string": (_set_field("chunks", "abc"), "'chunks' must be a list"),
    "payload-name-dot-dot": (_edit(lambda d: d["files"]["policy"].update(
        name="../../../etc/passwd")), "files.policy: names '../../../etc/passwd'"),
    "payload-size-negative": (_edit(lambda d: d["files"]["state"].update(size_bytes=-1)),
                              "size_bytes -1"),
    "payload-sha-uppercase": (_edit(lambda d: d["files"]["state"].update(
        sha256=d["files"]["state"]["sha256"].upper())), "64 lowercase hex digits"),
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CORPUS))
def test_hostile_checkpoint_is_refused_and_nothing_changes(
        case: str, base_run: Path, tmp_path: Path) -> None:
    mutate, expected_text = CHECKPOINT_CORPUS[case]
    logdir = copy_run(base_run, tmp_path / "run")
    info = list_checkpoints(logdir / CHECKPOINTS)[0]
    marker = tmp_path / "executed"
    mutate(info, marker)
    config_file = write_settings(tmp_path / "run.yaml", SETTINGS)
    before = snapshot(logdir)
    tracemalloc.start()
    try:
        code, _, err = train_in_process(*train_args(logdir, config_file))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    error = one_line_error(err)
    assert code == exit_codes.CHECKPOINT, err
    assert expected_text in error
    assert "checkpoint_iter000000000020" in error
    assert not marker.exists(), "a planted file ran code"
    assert peak < 48 << 20, f"peak {peak / 2**20:.0f} MiB to refuse a checkpoint"
    assert snapshot(logdir) == before



def test_checkpoint_names_that_are_symlinks_never_touch_their_targets(
        base_run: Path, expected: Solver, tmp_path: Path) -> None:
    """Checkpoint names planted as symlinks to files outside the run: listing ignores them,
    reading never follows them, and writing checkpoint 40 replaces the links themselves."""
    logdir = copy_run(base_run, tmp_path / "run")
    target = CheckpointInfo(40, logdir / CHECKPOINTS)
    victims = {}
    for path in (target.policy_path, target.state_path, target.metadata_path):
        victim = tmp_path / f"victim-{path.name}"
        victim.write_bytes(b"precious " + path.name.encode())
        path.symlink_to(victim)
        victims[victim] = victim.read_bytes()
    assert run_to_completion(logdir, CONFIG, SPEC) == 1
    assert {v: v.read_bytes() for v in victims} == victims
    assert not any(p.is_symlink() for p in (logdir / CHECKPOINTS).iterdir())
    assert_same_state(logdir, expected)


def test_odd_names_in_the_checkpoint_directory_are_ignored(
        base_run: Path, expected: Solver, tmp_path: Path) -> None:
    logdir = copy_run(base_run, tmp_path / "run")
    checkpoints = logdir / CHECKPOINTS
    genuine = CheckpointInfo(20, checkpoints)
    odd = ["checkpoint_iter40_metadata.json", "checkpoint_iter000000000040.npz\n",
           "checkpoint_iter000000000040.npz.bak", "..checkpoint_iter000000000040.npz",
           "checkpoint_iter०००००००००००40.npz", ".checkpoint_iter000000000040.npz.tmp-1-zz"]
    for name in odd:
        (checkpoints / name).write_bytes(genuine.metadata_path.read_bytes())
    (checkpoints / "checkpoint_iter000000000060_metadata.json").mkdir()
    planted = {name: (checkpoints / name).read_bytes() for name in odd}
    assert [i.iteration for i in list_checkpoints(checkpoints)] == [20]
    assert run_to_completion(logdir, CONFIG, SPEC) == 1
    assert {name: (checkpoints / name).read_bytes() for name in odd} == planted
    assert (checkpoints / "checkpoint_iter000000000060_metadata.json").is_dir()
    assert_same_state(logdir, expected)


def test_a_directory_at_the_next_checkpoint_name_fails_the_write_cleanly(
        base_run: Path, expected: Solver, tmp_path: Path) -> None:
    logdir = copy_run(base_run, tmp_path / "run")
    blocker = CheckpointInfo(40, logdir / CHECKPOINTS).state_path
    blocker.mkdir()
    config_file = write_settings(tmp_path / "run.yaml", SETTINGS)
    code, _, err = train_in_process(*train_args(logdir, config_file))
    error = one_line_error(err)
    assert code == exit_codes.IO and str(blocker) in error, err
    latest, _ = find_latest_complete(logdir / CHECKPOINTS)
    assert latest is not None and latest.iteration == 20
    assert temp_files(logdir / CHECKPOINTS) == []
    blocker.rmdir()
    assert run_to_completion(logdir, CONFIG, SPEC) == 1
    assert_same_state(logdir, expected)


def test_a_newer_format_checkpoint_is_never_overwritten(
        base_run: Path, tmp_path: Path) -> None:
    logdir = copy_run(base_run, tmp_path / "run")
    assert quiet_chunk(logdir, CONFIG.replace(num_iterations=60), SPEC) is ChunkStatus.CHUNK_DONE
    newer = CheckpointInfo(40, logdir / CHECKPOINTS)
    forge.rewrite_metadata(newer,
                           lambda document: document.update(format_version=FORMAT_VERSION + 1))
    written_by_newer = checkpoint_files(logdir, 40)
    with contextlib.suppress(CheckpointError):
        quiet_chunk(logdir, CONFIG.replace(num_iterations=60), SPEC)
    assert checkpoint_files(logdir, 40) == written_by_newer
