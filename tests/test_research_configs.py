"""The research heads-up configs: they load, their trees are what their comments say, and
their tables fit a workstation in the dtype they ship with."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from holdem_lab.config import load_run_config
from holdem_lab.games.holdem import holdem_size
from holdem_lab.solver.solver import solver_bytes

CONFIGS = Path(__file__).resolve().parents[1] / "holdem_lab" / "configs"


def _bucket_counts() -> tuple[int, ...]:
    spec = yaml.safe_load((CONFIGS / "buckets_research.yaml").read_text())
    return (169, int(spec["flop"]), int(spec["turn"]), int(spec["river"]))


@pytest.mark.parametrize(("name", "infosets"), [("research_hu", 5_307_008),
                                                ("research_hu_200bb", 5_069_808)])
def test_research_configs_size_and_fit(name: str, infosets: int) -> None:
    spec, config = load_run_config(CONFIGS / f"{name}.yaml")
    assert spec.buckets is not None and spec.buckets.endswith("data/buckets/research/buckets.npz")
    assert config.table_dtype == "float32"
    params = dict(spec.game_params)
    tree = holdem_size(**params).tree
    counts = _bucket_counts()
    assert counts == (169, 200, 200, 200)
    assert tree.infosets(counts) == infosets
    sized = solver_bytes(num_rows=infosets, max_actions=tree.max_actions, num_nodes=tree.nodes,
                         num_players=2, bucket_table_bytes=0, table_itemsize=4)
    assert sized < 2**30  # under a GiB of tables, before the bucket file's
