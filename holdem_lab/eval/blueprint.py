"""A trained blueprint as a policy you can query: load it from a run or checkpoint, read action
probabilities for a situation, and lay the preflop strategy out as a 13x13 grid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from holdem_lab.checkpoint import CheckpointInfo, find_latest_complete, load_checkpoint
from holdem_lab.chunks.runner import CHECKPOINT_DIR, build_game
from holdem_lab.config import GameSpec
from holdem_lab.errors import CheckpointError, GameError
from holdem_lab.games.game import Game
from holdem_lab.games.tree import ACTION_KIND_NAMES, DECISION


@dataclass(frozen=True, eq=False)
class Blueprint:
    """A game and the average policy trained on it (rows x actions)."""

    game: Game
    policy: np.ndarray
    iteration: int
    source: str

    def node_actions(self, node: int) -> list[str]:
        """Readable labels of the actions at a decision node."""
        tree = self.game.tree
        labels = []
        for a in range(int(tree.num_actions[node])):
            kind = ACTION_KIND_NAMES[int(tree.action_kind[node, a])]
            amount = tree.action_amount[node, a]
            labels.append(kind if kind in ("fold", "check/call") else f"{kind} to {amount:g}")
        return labels

    def probabilities(self, node: int, bucket: int) -> dict[str, float]:
        """Action probabilities at (decision node, bucket)."""
        if self.game.tree.terminal[node] != DECISION:
            raise GameError(f"node {node} is not a decision node")
        row = self.game.row_of(node, bucket)
        return {label: float(self.policy[row, a])
                for a, label in enumerate(self.node_actions(node))}

    def preflop_grid(self, node: int) -> np.ndarray:
        """(13, 13, num_actions) probabilities at a preflop node of a Hold'em blueprint with a
        lossless preflop: pairs on the diagonal, suited hands above it, offsuit below, aces in
        the top-left corner."""
        from holdem_lab.cards.isomorphism import preflop_grid_position

        game = self.game
        if game.name != "holdem" or game.num_buckets[0] != 169:
            raise GameError("the preflop grid needs Hold'em with lossless preflop buckets")
        if game.tree.round[node] != 0 or game.tree.terminal[node] != DECISION:
            raise GameError(f"node {node} is not a preflop decision node")
        actions = int(game.tree.num_actions[node])
        grid = np.zeros((13, 13, actions))
        for cls in range(169):
            row_index, col = preflop_grid_position(cls)
            grid[row_index, col] = self.policy[game.row_of(node, cls), :actions]
        return grid


def load_blueprint(path: str | Path) -> Blueprint:
    """A blueprint from a run directory (its newest complete checkpoint) or from a checkpoint's
    policy file (`checkpoint_iter…npz`)."""
    path = Path(path)
    if path.is_dir():
        directory = path / CHECKPOINT_DIR if (path / CHECKPOINT_DIR).is_dir() else path
        info, problems = find_latest_complete(directory)
        if info is None:
            raise CheckpointError(f"no complete checkpoint in {directory}"
                                  + (": " + "; ".join(problems) if problems else ""))
    else:
        from holdem_lab.checkpoint import parse_checkpoint_name

        iteration = parse_checkpoint_name(path.name)
        if iteration is None:
            raise CheckpointError(f"{path} is not a checkpoint file name")
        info = CheckpointInfo(iteration, path.parent)
    loaded = load_checkpoint(info)
    spec_data = dict(loaded.metadata["game_spec"])
    spec = GameSpec(game=spec_data["game"], game_params=spec_data.get("game_params") or {},
                    buckets=spec_data.get("buckets"))
    game = build_game(spec)
    policy = loaded.policy["average_policy"]
    if policy.shape != (game.num_rows, game.max_actions):
        raise CheckpointError(f"{info.policy_path}: policy shape {policy.shape} does not fit "
                              f"the game {(game.num_rows, game.max_actions)}")
    return Blueprint(game=game, policy=policy, iteration=loaded.iteration,
                     source=str(info.policy_path))
