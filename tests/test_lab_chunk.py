"""The chunk notebook's parameters (holdem_lab/lab/chunk.py `prepare_chunk`): hostile or
broken values are refused, naming the parameter, before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hostile.runs import SETTINGS, write_settings

from holdem_lab.errors import ConfigError
from holdem_lab.lab.chunk import prepare_chunk

NOTEBOOK_CORPUS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-parameter": ({"bogus": 1}, "bogus="),
    "empty-logdir": ({"logdir": ""}, "logdir="),
    "logdir-not-a-string": ({"logdir": ["x"]}, "logdir="),
    "logdir-is-a-file": ({"logdir": "{config}"}, "logdir="),
    "bool-chunk-iterations": ({"chunk_iterations": True}, "chunk_iterations="),
    "nan-chunk-minutes": ({"chunk_minutes": float("nan")}, "chunk_minutes="),
    "inf-chunk-minutes": ({"chunk_minutes": float("inf")}, "chunk_minutes="),
    "zero-keep-last": ({"keep_last": 0}, "keep_last="),
    "negative-seed": ({"seed": -1}, "seed="),
    "string-tensorboard": ({"tensorboard": "yes"}, "tensorboard="),
    "path-for-game": ({"game": "../../etc/passwd"}, "game="),
    "result-in-missing-directory": ({"result_path": "/no/such/dir/result.json"},
                                    "result_path="),
    "python-tag-in-config": ({"config_path": "{evil}"}, "config="),
    "missing-config": ({"config_path": "/no/such/run.yaml"}, "config="),
}


@pytest.mark.parametrize("case", sorted(NOTEBOOK_CORPUS))
def test_hostile_notebook_parameters_are_refused_before_anything_is_written(
        case: str, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    config_file = write_settings(tmp_path / "run.yaml", SETTINGS)
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"num_iterations: !!python/object/apply:os.system ['touch {marker}']\n")
    overrides, field = NOTEBOOK_CORPUS[case]
    logdir = tmp_path / "run"
    parameters: dict[str, Any] = {"config_path": str(config_file), "logdir": str(logdir)}
    for key, value in overrides.items():
        parameters[key] = (value.format(config=config_file, evil=evil)
                           if isinstance(value, str) else value)
    with pytest.raises(ConfigError) as caught:
        prepare_chunk(**parameters)
    assert str(caught.value).startswith(field), str(caught.value)
    assert not marker.exists()
    assert not logdir.exists()
