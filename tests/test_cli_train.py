"""holdem-train-blueprint's command line: bucket paths that must be refused without reading or
blocking, the guide's flags that do not apply, usage mistakes in one line, flag hints in
configuration errors, and count notation."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from hostile.runs import CHECKPOINTS, one_line_error, train_in_process

from holdem_lab.checkpoint import list_checkpoints
from holdem_lab.cli import exit_codes
from holdem_lab.config import config_from_mapping

# ------------------------------------------------------------------------------------------
# Hostile and broken inputs: bucket paths


def _bucket_tricks(root: Path) -> dict[str, str]:
    fifo_dir = root / "fifo"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / "buckets.npz")
    (fifo_dir / "buckets.json").write_text("{}")
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    sparse = root / "sparse"
    sparse.mkdir()
    (sparse / "buckets.npz").write_bytes(b"")
    with (sparse / "buckets.json").open("wb") as handle:
        handle.truncate(2 << 30)
    nested = root / "nested"
    (nested / "buckets.npz").mkdir(parents=True)
    (nested / "buckets.json").write_text("{}")
    return {
        "missing": str(root / "no" / "such" / "buckets.npz"),
        "device": "/dev/zero",
        "fifo-directory": str(fifo_dir),
        "fifo-file": str(fifo_dir / "buckets.npz"),
        "symlink-loop": str(root / "loop1"),
        "2-GiB-summary": str(sparse),
        "directory-named-npz": str(nested),
        "dot-dot-to-system-file": "../" * 12 + "etc/passwd",
    }


@pytest.mark.timeout(120)
def test_bucket_path_tricks_are_refused_without_reading_or_blocking(tmp_path: Path) -> None:
    tricks = _bucket_tricks(tmp_path)
    refused = {}
    for name, path in tricks.items():
        logdir = tmp_path / f"run-{name}"
        tracemalloc.start()
        try:
            code, _, err = train_in_process("--logdir", str(logdir), "--game", "holdem",
                                            "--buckets", path, "--iters", "2", "--no-progress",
                                            "--no-tensorboard")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        error = one_line_error(err)
        assert code == exit_codes.MISMATCH, (name, err)
        assert "bucket file refused" in error, (name, error)
        assert peak < 64 << 20, (name, peak)
        assert list_checkpoints(logdir / CHECKPOINTS) == []
        refused[name] = error
    assert len(refused) == len(tricks) == 8
    code, _, err = train_in_process("--logdir", str(tmp_path / "leduc"), "--game", "leduc",
                                    "--buckets", tricks["missing"], "--iters", "2",
                                    "--no-progress", "--no-tensorboard")
    assert code == exit_codes.USAGE
    assert "only Hold'em uses a bucket file, and the game is leduc" in one_line_error(err)


def test_the_guides_flags_that_do_not_apply_are_explained(tmp_path: Path) -> None:
    """The guide's commands pass --buckets (a .pkl) and no --game: the game is Hold'em, and a
    pickle path is refused saying what to pass instead. Its --num-instances is explained."""
    pickle_path = tmp_path / "data" / "buckets.pkl"
    pickle_path.parent.mkdir()
    pickle_path.write_bytes(b"\x80\x04N.")  # pickle of None: must never be opened as one
    logdir = tmp_path / "run"
    code, out, err = train_in_process("--logdir", str(logdir), "--buckets", str(pickle_path),
                                      "--iters", "2", "--no-progress", "--no-tensorboard")
    assert code == exit_codes.MISMATCH, err
    assert one_line_error(err) == (
        f"holdem-train-blueprint: error: bucket file refused: {pickle_path}: bucket files are "
        "never pickles; pass the directory holdem-build-buckets wrote (buckets.npz and "
        "buckets.json)")
    assert list_checkpoints(logdir / CHECKPOINTS) == []
    for flag in (["--num-instances", "4"], ["--num-instances"], ["--num-instances=auto"]):
        code, _, err = train_in_process("--logdir", str(logdir), *flag, "--iters", "2")
        assert code == exit_codes.USAGE
        assert "there is no multi-instance mode" in one_line_error(err)
    spec, _ = config_from_mapping({"buckets": "data/buckets/default"})
    assert spec.game == "holdem"
    spec, _ = config_from_mapping({"buckets": None})
    assert spec.game == "leduc"


# ------------------------------------------------------------------------------------------
# Usage mistakes, flag hints and counts


@pytest.mark.parametrize(("args", "message"), [
    # (argparse's wording of the choices after this prefix changed in Python 3.12.8)
    (["--sampling", "Outcome"], "argument --sampling: invalid choice: 'Outcome'"),
    (["--iters", "2.5"], "argument --iters: invalid count: '2.5' is not a whole number"),
    (["--iters", "inf"], "argument --iters: invalid count: 'inf' is not a whole number"),
    (["--iters", "ten"], "argument --iters: invalid count: 'ten'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_usage_mistakes_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = train_in_process("--logdir", str(tmp_path / "run"), *args)
    assert code == exit_codes.USAGE
    line = one_line_error(err)
    assert line.startswith(f"holdem-train-blueprint: error: {message}"), line
    assert line.endswith(" (see holdem-train-blueprint --help)"), line


def test_config_errors_name_the_flags_of_the_fields_they_are_about(tmp_path: Path) -> None:
    code, _, err = train_in_process("--logdir", str(tmp_path / "a"), "--chunked", "--iters", "10")
    assert code == exit_codes.USAGE
    assert one_line_error(err).endswith(
        "needs chunk_size_iterations and/or chunk_size_minutes "
        "(flags: --chunked, --chunk-iterations, --chunk-minutes)")
    # A value that happens to contain field names adds no flags.
    code, _, err = train_in_process("--logdir", str(tmp_path / "b"), "--game", "kuhn", "--buckets",
                         "/data/seed/sampling")
    assert one_line_error(err).endswith("and the game is kuhn (flags: --buckets, --game)")
    config = tmp_path / "run.yaml"
    config.write_text("chunk_size: 5\n")
    code, _, err = train_in_process("--logdir", str(tmp_path / "c"), "--config", str(config))
    assert "unknown key" in one_line_error(err) and "(flags:" not in err


def test_counts_accept_scientific_and_grouped_notation(tmp_path: Path) -> None:
    for text in ("3e2", "3_00", "300", "3.00E2"):
        code, out, err = train_in_process("--logdir", str(tmp_path / text), "--game", "leduc",
                                          "--iters", text, "--no-progress", "--no-tensorboard")
        assert code == exit_codes.COMPLETE, err
        assert "Total iteration limit reached: 300 >= 300" in out


# ------------------------------------------------------------------------------------------
# Help and flags


def test_help_shows_the_configs_defaults_and_the_solver_flags(
        capsys: pytest.CaptureFixture[str]) -> None:
    from holdem_lab.cli.train import build_parser
    from holdem_lab.config import SETTING_FLAGS, MCCFRConfig

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    text = text[text.index("options:"):]  # past the usage line
    defaults = MCCFRConfig()
    for flag, value in (("--dcfr-alpha", defaults.dcfr_alpha),
                        ("--dcfr-beta", defaults.dcfr_beta),
                        ("--dcfr-gamma", defaults.dcfr_gamma),
                        ("--prune-warmup N", defaults.prune_warmup_iterations),
                        ("--prune-threshold", defaults.prune_threshold),
                        ("--discount-mode", defaults.discount_mode),
                        ("--epsilon", defaults.exploration_epsilon),
                        ("--sampling", defaults.sampling)):
        after = text[text.index(flag):]
        assert f"(default: {value})" in after[:300], (flag, after[:300])
    assert "--pruning, --no-pruning" in text and "(default: false)" in text
    assert "--regret-floor" in text
    # Every config field with a flag is parsed into the config through the one table.
    parser_flags = {option for action in build_parser()._actions
                    for option in action.option_strings}
    assert {row.flag for row in SETTING_FLAGS} <= parser_flags


def test_solver_flags_reach_the_config(tmp_path: Path) -> None:
    from holdem_lab.cli.train import build_parser, settings_from_args

    args = build_parser().parse_args([
        "--logdir", "x", "--dcfr-alpha", "2", "--dcfr-beta", "-0.5", "--dcfr-gamma", "3",
        "--pruning", "--prune-warmup", "1e3", "--prune-threshold", "-50",
        "--prune-probability", "0.5", "--regret-floor", "-60"])
    _, config = config_from_mapping(settings_from_args(args))
    assert (config.dcfr_alpha, config.dcfr_beta, config.dcfr_gamma) == (2.0, -0.5, 3.0)
    assert config.enable_pruning and config.prune_warmup_iterations == 1000
    assert (config.prune_threshold, config.prune_probability, config.regret_floor) == (
        -50.0, 0.5, -60.0)
    args = build_parser().parse_args(["--logdir", "x", "--no-pruning"])
    assert settings_from_args(args)["enable_pruning"] is False
    code, _, err = train_in_process("--logdir", str(tmp_path / "r"), "--regret-floor", "-1",
                                    "--pruning", "--prune-threshold", "-5", "--iters", "2")
    assert code == exit_codes.USAGE
    assert "(flags: --regret-floor, --prune-threshold)" in one_line_error(err)


def test_epsilon_under_external_sampling_is_accepted_with_a_note(tmp_path: Path) -> None:
    run = tmp_path / "run"
    common = ("--logdir", str(run), "--game", "leduc", "--iters", "20", "--chunked",
              "--chunk-iterations", "10", "--no-progress", "--no-tensorboard")
    code, out, err = train_in_process(*common, "--sampling", "external", "--epsilon", "0.3")
    assert code == exit_codes.CHUNK_DONE, err
    assert out.count("epsilon only acts in outcome sampling") == 1
    # A changed epsilon under external sampling is recorded, not refused, on resume.
    code, out, err = train_in_process(*common, "--epsilon", "0.5")
    assert code == exit_codes.COMPLETE, err
    assert "Setting changed since the last chunk: exploration_epsilon: 0.3 -> 0.5" in out
    # Under outcome sampling it changes the training, and stays refused.
    outcome = tmp_path / "outcome"
    args = ("--logdir", str(outcome), "--game", "leduc", "--iters", "20", "--chunked",
            "--chunk-iterations", "10", "--sampling", "outcome", "--no-progress",
            "--no-tensorboard")
    code, out, _ = train_in_process(*args, "--epsilon", "0.3")
    assert code == exit_codes.CHUNK_DONE and "epsilon only acts" not in out
    code, _, err = train_in_process(*args, "--epsilon", "0.5")
    assert code == exit_codes.MISMATCH
    assert "config mismatch in exploration_epsilon" in one_line_error(err)
