"""The four commands map every failure alike: the exit code of holdem_lab.errors' table and one
line on stderr (a traceback only for a bug), whatever command the failure happens in.

Each command's body is replaced by one that raises, so that the very same error goes through
every command; then real failures are provoked end to end, one or more per command.
"""

from __future__ import annotations

import errno
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from holdem_lab.cli import buckets, evaluate, exit_codes, lab, train
from holdem_lab.errors import (
    AnalysisFailedError,
    BucketError,
    CheckpointError,
    ChunkFailedError,
    ConfigError,
    GameError,
    HoldemLabError,
    LabError,
    ResumeMismatchError,
    RunLockedError,
)

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.timeout(300)

# command name -> (module, name of its body function, a command line that parses)
COMMANDS: dict[str, tuple[object, str, list[str]]] = {
    "holdem-train-blueprint": (train, "_train", ["--logdir", "run"]),
    "holdem-lab": (lab, "_chunks", ["chunks", "--config", "run.yaml", "--run", "run"]),
    "holdem-build-buckets": (buckets, "_build", ["--out", "buckets"]),
    "holdem-eval": (evaluate, "_evaluate", ["run"]),
}


def _checkpoint_io_error() -> CheckpointError:
    try:
        raise CheckpointError("cannot write checkpoint_iter000000000010") from OSError(
            errno.EIO, "Input/output error")
    except CheckpointError as exc:
        return exc


# (error raised by the body, exit code, the message after "<prog>: error: ")
FAILURES: list[tuple[BaseException, int, str]] = [
    # A field no flag sets (dcfr_alpha has --dcfr-alpha now), so every command says the same.
    (ConfigError("discount_stop_iteration", 0, "must be >= 1"), exit_codes.USAGE,
     "invalid configuration: discount_stop_iteration=0: must be >= 1"),
    (GameError("a card appears twice"), exit_codes.USAGE, "invalid game: a card appears twice"),
    (LabError("notebook chunk.ipynb not found in /x"), exit_codes.USAGE,
     "notebook chunk.ipynb not found in /x"),
    (BucketError("bucket file not found: /x/buckets.npz"), exit_codes.MISMATCH,
     "bucket file refused: bucket file not found: /x/buckets.npz"),
    (ResumeMismatchError("config mismatch in seed: checkpoint has 7, current run has 8"),
     exit_codes.MISMATCH,
     "cannot resume: config mismatch in seed: checkpoint has 7, current run has 8"),
    (RunLockedError("run is locked by pid 12"), exit_codes.LOCKED, "run is locked by pid 12"),
    (CheckpointError("no complete checkpoint in /x"), exit_codes.CHECKPOINT,
     "checkpoint error: no complete checkpoint in /x"),
    (_checkpoint_io_error(), exit_codes.IO,
     "checkpoint error: cannot write checkpoint_iter000000000010"),
    (OSError(errno.ENOSPC, "No space left on device"), exit_codes.IO,
     "I/O error: [Errno 28] No space left on device"),
    (PermissionError(errno.EACCES, "Permission denied", "/x"), exit_codes.IO,
     "I/O error: [Errno 13] Permission denied: '/x'"),
    (ChunkFailedError(3, None, "ResumeMismatchError", "config mismatch in seed"),
     exit_codes.MISMATCH, "chunk 3 failed: ResumeMismatchError: config mismatch in seed"),
    (ChunkFailedError(3, None, "PermissionError", "[Errno 13] Permission denied"),
     exit_codes.IO, "chunk 3 failed: PermissionError: [Errno 13] Permission denied"),
    (ChunkFailedError(3, None, "DeadKernelError", "the kernel died"), exit_codes.ERROR,
     "chunk 3 failed: DeadKernelError: the kernel died"),
    (AnalysisFailedError(None, "ValueError", "no data"), exit_codes.ERROR,
     "analysis failed: ValueError: no data"),
    (HoldemLabError("no readable checkpoint in /x/checkpoints"), exit_codes.ERROR,
     "no readable checkpoint in /x/checkpoints"),
    (ConfigError("config", "x.yaml", "is not valid YAML: while parsing\n  in line 2"),
     exit_codes.USAGE, "invalid configuration: config='x.yaml': is not valid YAML: while "
                       "parsing in line 2"),
]


def _run(command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         body: Callable[..., int]) -> tuple[int, str]:
    module, name, argv = COMMANDS[command]
    monkeypatch.setattr(module, name, body)
    code = module.main(argv)  # type: ignore[attr-defined]
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def _raiser(error: BaseException) -> Callable[..., int]:
    def body(*args: object) -> int:
        raise error
    return body


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("error", "code", "message"), FAILURES,
                         ids=[f"{type(e).__name__}-{c}" for e, c, _ in FAILURES])
def test_every_command_maps_an_error_to_its_code_and_one_line(
        command: str, error: BaseException, code: int, message: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    got, err = _run(command, monkeypatch, capsys, _raiser(error))
    assert got == code, err
    assert err == f"{command}: error: {message}\n"


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_outside_training_exits_130_in_one_line(
        command: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(command, monkeypatch, capsys, _raiser(KeyboardInterrupt()))
    assert code == exit_codes.INTERRUPTED == 130
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"{command}: error: interrupted"), err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bug_prints_its_traceback_and_exits_1(
        command: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(command, monkeypatch, capsys, _raiser(ZeroDivisionError("a bug")))
    assert code == exit_codes.ERROR
    assert err.startswith("Traceback (most recent call last):")
    assert err.rstrip().endswith("ZeroDivisionError: a bug")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_successful_body_returns_its_own_code(
        command: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    for wanted in (exit_codes.CHUNK_DONE, exit_codes.COMPLETE, exit_codes.STOPPED):
        code, err = _run(command, monkeypatch, capsys, lambda *args, c=wanted: c)
        assert (code, err) == (wanted, "")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_exit_codes_with_the_tables_wording(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = COMMANDS[command][0]
    with pytest.raises(SystemExit) as exited:
        module.main(["--help"])  # type: ignore[attr-defined]
    assert exited.value.code == 0
    text = capsys.readouterr().out
    if command == "holdem-lab":  # the codes are in each subcommand's help
        with pytest.raises(SystemExit):
            module.main(["chunks", "--help"])  # type: ignore[attr-defined]
        text = capsys.readouterr().out
    table = text[text.index("exit codes:"):]
    for code in (exit_codes.ERROR, exit_codes.IO, exit_codes.INTERRUPTED):
        assert f"\n  {code:<3} " in table, (command, table)
    assert exit_codes.DESCRIPTIONS[exit_codes.IO] in table


def test_only_training_names_the_flags_of_a_config_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    error = ConfigError("enable_chunked_training", True, "needs a total",
                        related=("num_iterations", "time_budget_seconds"))
    code, err = _run("holdem-train-blueprint", monkeypatch, capsys, _raiser(error))
    assert code == exit_codes.USAGE
    assert err.endswith("needs a total (flags: --chunked, --iters, --time-budget)\n"), err
    # Field names in the prose are not flags: only the error's own fields count.
    error = ConfigError("seed", -1, "must be >= 0 (unlike sampling or game)")
    code, err = _run("holdem-train-blueprint", monkeypatch, capsys, _raiser(error))
    assert err.endswith("(unlike sampling or game) (flags: --seed)\n"), err


# --------------------------------------------------------------------------------------------
# Real failures, end to end


def _cli(module: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", f"holdem_lab.cli.{module}", *args],
                          capture_output=True, text=True, timeout=240, cwd=cwd)


def _one_line(stderr: str, prog: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    return lines[0][len(f"{prog}: error: "):]


def test_a_missing_bucket_file_exits_5_alike_in_training_and_the_lab(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no" / "buckets"
    trained = _cli("train", "--logdir", str(tmp_path / "a"), "--buckets", str(missing),
                   "--iters", "2", "--no-progress", "--no-tensorboard")
    assert trained.returncode == exit_codes.MISMATCH, trained.stderr
    message = _one_line(trained.stderr, "holdem-train-blueprint")
    assert message.startswith("bucket file refused: ") and str(missing) in message
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"buckets": str(missing), "num_iterations": 2}))
    # holdem-lab checks a run before it starts a kernel: this needs none (it exited 1 before).
    code = lab.main(["chunks", "--config", str(config), "--run", str(tmp_path / "b"),
                     "--no-progress", "--quiet", "--no-analysis"])
    assert code == exit_codes.MISMATCH
    assert _one_line(capsys.readouterr().err, "holdem-lab") == message


def test_the_bucket_builder_exits_2_on_a_bad_config_and_7_when_it_cannot_write(
        tmp_path: Path) -> None:
    result = _cli("buckets", "--out", str(tmp_path / "out"), "--river", "0")
    assert result.returncode == exit_codes.USAGE
    assert _one_line(result.stderr, "holdem-build-buckets") == (
        "invalid configuration: river=0: must be >= 1")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    # It exited 1 on an OSError before; every command now exits 7.
    result = _cli("buckets", "--out", str(blocker / "out"), "--flop", "2", "--turn", "2",
                  "--river", "2", "--no-progress")
    assert result.returncode == exit_codes.IO, result.stderr
    message = _one_line(result.stderr, "holdem-build-buckets")
    assert message.startswith("I/O error: [Errno 20] Not a directory") and str(blocker) in message
    assert blocker.read_text() == "not a directory"


HU_SETTINGS = {
    "game": "holdem", "num_iterations": 10, "evaluation_deal_pairs": 0,
    "game_params": {"bet_sizing": {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]],
                                   "max_raises": [2, 1, 1, 1]}},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny heads-up Hold'em run and a tiny Leduc run, each with one complete checkpoint."""
    root = tmp_path_factory.mktemp("eval")
    config = root / "hu.yaml"
    config.write_text(yaml.safe_dump(HU_SETTINGS))
    for name, args in (("hu", ["--config", str(config)]),
                       ("leduc", ["--game", "leduc", "--iters", "10"])):
        code = train.main(["--logdir", str(root / name), *args, "--no-progress",
                           "--no-tensorboard"])
        assert code == exit_codes.COMPLETE
    return {"hu": root / "hu", "leduc": root / "leduc"}


def test_eval_refuses_an_unusable_blueprint_with_the_tables_codes(
        runs: dict[str, Path], tmp_path: Path) -> None:
    # It exited 2 for every refusal before.
    result = _cli("evaluate", str(runs["hu"]), "--against", str(runs["leduc"]))
    assert result.returncode == exit_codes.MISMATCH
    assert _one_line(result.stderr, "holdem-eval") == (
        f"blueprints do not match: {runs['leduc']} was trained on another game or abstraction")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _cli("evaluate", str(empty))
    assert result.returncode == exit_codes.CHECKPOINT
    assert _one_line(result.stderr, "holdem-eval") == (
        f"checkpoint error: no complete checkpoint in {empty}")
    result = _cli("evaluate", str(runs["leduc"]))
    assert result.returncode == exit_codes.USAGE
    assert _one_line(result.stderr, "holdem-eval").startswith(
        "invalid game: matches are heads-up Hold'em")


def test_eval_interrupted_by_ctrl_c_exits_130_without_a_traceback(
        runs: dict[str, Path]) -> None:
    # Two long matches: the first one's result line shows the command is inside its loop, so
    # the signal reaches the second match.
    process = subprocess.Popen(
        [sys.executable, "-m", "holdem_lab.cli.evaluate", str(runs["hu"]), "--against",
         "uniform", "always_call", "--hands", "400000"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("blueprint@10 vs uniform"), first
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == exit_codes.INTERRUPTED, err
    assert _one_line(err, "holdem-eval") == "interrupted"
    assert out == ""


def test_eval_names_the_baselines_and_a_run_that_does_not_exist(
        runs: dict[str, Path], tmp_path: Path) -> None:
    # Both said "... is not a checkpoint file name" before.
    result = _cli("evaluate", str(runs["hu"]), "--against", "foo")
    assert result.returncode == exit_codes.USAGE
    assert _one_line(result.stderr, "holdem-eval") == (
        "invalid configuration: against='foo': is neither a baseline (always_call, "
        "always_raise_pot, uniform, always_fold, equity_threshold) nor the path of a run or "
        "checkpoint")
    result = _cli("evaluate", str(tmp_path / "nope"))
    assert result.returncode == exit_codes.CHECKPOINT
    assert _one_line(result.stderr, "holdem-eval") == (
        f"checkpoint error: {tmp_path / 'nope'} does not exist: give a run directory or one of "
        "its checkpoint_iter….npz files")


def test_a_logdir_that_is_a_file_is_named_plainly(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "run"
    blocker.write_text("a file")
    result = _cli("train", "--logdir", str(blocker), "--game", "leduc", "--iters", "2",
                  "--no-progress", "--no-tensorboard")
    assert result.returncode == exit_codes.USAGE, result.stderr
    assert _one_line(result.stderr, "holdem-train-blueprint") == (
        f"invalid configuration: run directory='{blocker}': is a file, not a directory")
    result = _cli("train", "--logdir", str(blocker / "inner"), "--game", "leduc", "--iters",
                  "2", "--no-progress", "--no-tensorboard")
    assert result.returncode == exit_codes.USAGE, result.stderr
    assert "a part of its path is a file" in _one_line(result.stderr, "holdem-train-blueprint")
    assert blocker.read_text() == "a file"


def test_every_checkpoint_broken_is_one_short_line_everywhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert train.main(["--logdir", str(run), "--game", "leduc", "--iters", "30",
                       "--chunked", "--chunk-iterations", "1", "--no-progress",
                       "--no-tensorboard"]) == exit_codes.CHUNK_DONE
    for _ in range(29):
        train.main(["--logdir", str(run), "--game", "leduc", "--iters", "30", "--chunked",
                    "--chunk-iterations", "1", "--no-progress", "--no-tensorboard"])
    capsys.readouterr()
    metadata = sorted((run / "checkpoints").glob("*_metadata.json"))
    assert len(metadata) == 30
    for path in metadata:
        path.write_text(path.read_text().replace('"iteration"', '"iteratiom"'))
    newest = metadata[-1].name.removesuffix("_metadata.json")
    result = _cli("train", "--logdir", str(run), "--game", "leduc", "--iters", "40",
                  "--no-progress", "--no-tensorboard")
    assert result.returncode == exit_codes.CHECKPOINT
    line = result.stderr.strip().splitlines()[-1]
    assert len(line) < 600 and newest in line and "and 29 older checkpoints" in line, line
    for module, args in (("evaluate", [str(run)]), ):
        result = _cli(module, *args)
        assert result.returncode == exit_codes.CHECKPOINT
        message = _one_line(result.stderr, "holdem-eval")
        assert len(message) < 600 and newest in message and "and 29 older" in message, message
    from holdem_lab.lab.explore import Explorer

    explorer = Explorer(run, runs_root=tmp_path, images=False)
    assert explorer.error is not None and len(explorer.error) < 600
    assert "and 29 older" in explorer.error
