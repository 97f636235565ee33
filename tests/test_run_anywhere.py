"""A Hold'em run opens from any working directory: the checkpoint records its bucket file's
absolute path and sha256, a moved file is found by its sha256 next to the run or in the bucket
directory, and ``--buckets`` overrides it (with the same sha256 only). Every entry point is run
from a directory other than the one the run was trained from: a resume through the CLI,
``holdem-eval``, ``load_blueprint`` and the analysis library (``game_of``, the explorer)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile.runs import train_in_process, write_settings

from holdem_lab.errors import BucketError
from holdem_lab.eval.blueprint import load_blueprint
from holdem_lab.lab.runfiles import game_of
from holdem_lab.rundir import BUCKET_DIR_ENV, RunDir

pytestmark = pytest.mark.timeout(900)

SETTINGS = {
    "game": "holdem",
    "game_params": {"bet_sizing": {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]],
                                   "max_raises": [2, 1, 1, 1]}},
    "num_iterations": 400, "enable_chunked_training": True, "chunk_size_iterations": 200,
    "evaluation_deal_pairs": 0, "seed": 2,
}


def _link_buckets(source: Path, target: Path) -> Path:
    """A copy of a bucket directory at ``target`` (hard links: the npz is large)."""
    target.mkdir(parents=True)
    for name in ("buckets.npz", "buckets.json"):
        try:
            os.link(source / name, target / name)
        except OSError:
            shutil.copy2(source / name, target / name)
    return target


def _train_from(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "holdem_lab.cli.train", "--no-progress",
                           "--no-tensorboard", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture()
def moved_run(tmp_path: Path, small_buckets: Path,
              monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A run trained one chunk from ``project/`` with a relative bucket path, whose bucket
    directory was then moved next to the run; returns (project, run, elsewhere)."""
    project = tmp_path / "project"
    _link_buckets(small_buckets, project / "data" / "buckets" / "small")
    config = write_settings(project / "run.yaml",
                            {**SETTINGS, "buckets": "data/buckets/small"})
    result = _train_from(project, "--config", "run.yaml", "--logdir", "runs/hu", "--chunked")
    assert result.returncode == 0, result.stderr
    run = project / "runs" / "hu"
    metadata = json.loads(sorted(run.glob("checkpoints/*_metadata.json"))[-1].read_text())
    assert metadata["game_spec"]["buckets"] == str(project / "data" / "buckets" / "small")
    (project / "data" / "buckets" / "small").rename(run / "buckets")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # The checkout's own bucket directory must not be what finds the file.
    monkeypatch.setenv(BUCKET_DIR_ENV, str(tmp_path / "no-buckets-here"))
    assert config.is_file()
    return project, run, elsewhere


def test_checkpoint_records_the_absolute_bucket_path(tmp_path: Path, small_buckets: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    _link_buckets(small_buckets, project / "b")
    monkeypatch.chdir(project)
    config = write_settings(project / "run.yaml", SETTINGS)
    code, _, err = train_in_process("--config", str(config), "--logdir", "run", "--buckets",
                                    "b", "--no-progress", "--no-tensorboard")
    assert code == 0, err
    monkeypatch.chdir(tmp_path)
    blueprint = load_blueprint(project / "run")
    assert blueprint.game.bucket_hash == json.loads((project / "b" / "buckets.json")
                                                    .read_text())["sha256"]
    spec = json.loads(sorted((project / "run" / "checkpoints").glob("*_metadata.json"))[-1]
                      .read_text())["game_spec"]
    assert spec["buckets"] == str(project / "b")


def test_every_entry_point_opens_a_run_whose_buckets_moved(
        moved_run: tuple[Path, Path, Path]) -> None:
    project, run, elsewhere = moved_run
    # load_blueprint, from a run directory and from a checkpoint file
    blueprint = load_blueprint(run)
    assert blueprint.iteration == 200
    assert Path(blueprint.game.params["buckets"]) == run / "buckets"
    policy_file = sorted((run / "checkpoints").glob("checkpoint_iter*[0-9].npz"))[-1]
    assert load_blueprint(policy_file).iteration == 200
    # the analysis library and the explorer
    records, problems = RunDir(run).records()
    assert not problems
    assert game_of(records[-1].metadata, run_root=run).identity() == \
        blueprint.game.identity()
    from holdem_lab.lab.explore import Explorer

    explorer = Explorer(run, runs_root=elsewhere, images=False)
    assert explorer.error is None and explorer.game is not None
    from holdem_lab.lab.analysis import load_run

    assert load_run(run)["iteration"] == 200
    # holdem-eval
    result = subprocess.run([sys.executable, "-m", "holdem_lab.cli.evaluate", str(run),
                             "--against", "uniform", "--hands", "20", "--json"],
                            cwd=elsewhere, capture_output=True, text=True, timeout=600,
                            env={**os.environ, BUCKET_DIR_ENV: str(elsewhere)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["agent_b"] == "uniform"
    # the chunk notebook's check before holdem-lab starts a kernel
    from holdem_lab.lab.chunk import prepare_chunk

    request = prepare_chunk(config_path=str(project / "run.yaml"), logdir=str(run))
    assert request.spec.buckets == str(run / "buckets")
    # a resume through the CLI, with the config's relative bucket path missing here
    result = _train_from(elsewhere, "--config", str(project / "run.yaml"), "--logdir",
                         str(run), "--chunked")
    assert result.returncode == 3, result.stderr
    assert "Successfully resumed from iteration 200" in result.stdout


def test_a_bucket_file_found_nowhere_is_named_with_the_way_out(
        moved_run: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    project, run, elsewhere = moved_run
    (run / "buckets").rename(elsewhere / "hidden")
    with pytest.raises(BucketError, match="--buckets"):
        load_blueprint(run)
    # --buckets, and the bucket directory, both find it
    assert load_blueprint(run, buckets=elsewhere / "hidden").iteration == 200
    monkeypatch.setenv(BUCKET_DIR_ENV, str(elsewhere))
    assert load_blueprint(run).iteration == 200


def test_a_bucket_override_with_another_sha256_is_refused(
        moved_run: tuple[Path, Path, Path]) -> None:
    _, run, elsewhere = moved_run
    other = _link_buckets(run / "buckets", elsewhere / "other")
    summary = json.loads((other / "buckets.json").read_text())
    summary["sha256"] = "0" * 64
    (other / "buckets.json").unlink()  # a hard link: the run's own summary stays as it was
    (other / "buckets.json").write_text(json.dumps(summary))
    with pytest.raises(BucketError, match="was trained with"):
        load_blueprint(run, buckets=other)
    result = subprocess.run([sys.executable, "-m", "holdem_lab.cli.evaluate", str(run),
                             "--against", "uniform", "--hands", "20", "--buckets", str(other)],
                            cwd=elsewhere, capture_output=True, text=True, timeout=600)
    assert result.returncode == 5, result.stderr
    assert "was trained with" in result.stderr
