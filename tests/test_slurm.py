"""Training through a real Slurm cluster: one node (this host), daemons started by hand, and
`scripts/slurm/train_chunk.sbatch` chaining itself job after job until training is complete.

Each job has a one-minute limit and asks for SIGTERM well before it (`--signal=B:TERM@50`).
slurmctld looks at time limits every 30 s, so the warning reaches every job still training at
the first such look: whatever the phase, no job trains more than 30 s, and a 60 s time budget
needs at least three jobs, the first of them stopped by Slurm mid-chunk.

Needs root (to install Debian's slurm-wlm and munge when missing, and to run the daemons);
skipped otherwise.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile.runs import REPO, assert_same_state

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import list_checkpoints, load_checkpoint
from holdem_lab.chunks.runner import latest_checkpoint

pytestmark = pytest.mark.slurm

SCRIPT = REPO / "scripts" / "slurm" / "train_chunk.sbatch"
PACKAGES = ("slurm-wlm", "munge")
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel")
TIME_BUDGET = 60.0  # seconds of training in total, over all jobs
SEED = 5


def _install() -> str | None:
    """Install slurm-wlm and munge if missing; None on success, else why not."""
    if all(shutil.which(tool) for tool in DAEMONS):
        return None
    if os.geteuid() != 0:
        return "slurm-wlm/munge are not installed and the tests do not run as root"
    if shutil.which("apt-get") is None:
        return "slurm-wlm/munge are not installed and apt-get is not available"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
    result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, timeout=600)
        result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0 or not all(shutil.which(tool) for tool in DAEMONS):
        return f"could not install {' '.join(PACKAGES)}: {result.stderr.strip()[-300:]}"
    return None


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _pid(path: Path, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            time.sleep(0.1)  # polling an external daemon's pid file
    raise AssertionError(f"{path} did not appear")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]
    pids: dict[str, int]
    logs: dict[str, Path]

    def run(self, *command: str, cwd: Path | None = None,
            extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(command), capture_output=True, text=True, timeout=60,
                              env={**self.env, **(extra or {})}, cwd=cwd)

    def queue(self) -> list[str]:
        result = self.run("squeue", "-h", "-o", "%i %T")
        assert result.returncode == 0, result.stderr
        return result.stdout.split("\n")[:-1]

    def diagnostics(self) -> str:
        return "\n".join(f"--- {name}\n{path.read_text()[-3000:]}" for name, path
                         in self.logs.items() if path.exists())


def _configure(root: Path) -> tuple[Path, dict[str, Path]]:
    host = socket.gethostname()
    controller_port, node_port = _free_ports(2)
    for sub in ("state", "spool", "munge"):
        (root / sub).mkdir(mode=0o700)
    key = root / "munge" / "munge.key"
    key.write_bytes(secrets.token_bytes(1024))
    key.chmod(0o600)
    logs = {"slurmctld": root / "slurmctld.log", "slurmd": root / "slurmd.log",
            "munged": root / "munge" / "munged.log"}
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=holdemtest
SlurmctldHost={host}
SlurmctldPort={controller_port}
SlurmdPort={node_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root / 'munge' / 'munge.socket'}
CredType=cred/munge
StateSaveLocation={root / 'state'}
SlurmdSpoolDir={root / 'spool'}
SlurmctldPidFile={root / 'slurmctld.pid'}
SlurmdPidFile={root / 'slurmd.pid'}
SlurmctldLogFile={logs['slurmctld']}
SlurmdLogFile={logs['slurmd']}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=10
InactiveLimit=0
MinJobAge=600
NodeName={host} CPUs={os.cpu_count() or 1} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    return conf, logs


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = _install()
    if reason is not None:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm")
    conf, logs = _configure(root)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    for name in [n for n in os.environ if n.startswith(("SLURM_", "SBATCH_"))]:
        env.pop(name)  # a test run inside someone's Slurm job must not talk to their cluster
    env["SLURM_CONF"] = str(conf)
    started = Cluster(root, env, {}, logs)
    munge = root / "munge"
    try:
        result = started.run("munged", "--force", f"--socket={munge / 'munge.socket'}",
                             f"--key-file={munge / 'munge.key'}",
                             f"--log-file={logs['munged']}", f"--pid-file={munge / 'munged.pid'}",
                             f"--seed-file={munge / 'munged.seed'}")
        assert result.returncode == 0, result.stderr
        started.pids["munged"] = _pid(munge / "munged.pid")
        result = started.run("slurmctld", "-c", "-f", str(conf))
        assert result.returncode == 0, result.stderr
        started.pids["slurmctld"] = _pid(root / "slurmctld.pid")
        result = started.run("slurmd", "-f", str(conf))
        assert result.returncode == 0, result.stderr
        started.pids["slurmd"] = _pid(root / "slurmd.pid")
        deadline = time.monotonic() + 60
        while True:
            state = started.run("sinfo", "-h", "-o", "%T").stdout.strip()
            if state == "idle":
                break
            assert time.monotonic() < deadline, f"node is {state!r}\n{started.diagnostics()}"
            time.sleep(0.2)  # polling external daemons
        yield started
    finally:
        if "slurmctld" in started.pids:
            started.run("scancel", "--user=root")  # end any job still queued or running
        for name in ("slurmd", "slurmctld", "munged"):
            pid = started.pids.get(name)
            if pid is None:
                continue
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)  # waiting for an external daemon to exit
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


class Follower(threading.Thread):
    """The uninterrupted reference run, trained in this process alongside the jobs: it
    advances to each checkpoint the chain publishes, so only the last stretch is left to
    train once the chain has finished (the kernel releases the GIL)."""

    def __init__(self, checkpoints: Path, config: MCCFRConfig) -> None:
        super().__init__(daemon=True)
        self.checkpoints = checkpoints
        self.solver = Solver(load_game("leduc"), config)
        self.final: int | None = None
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while True:
                listed = [i.iteration for i in list_checkpoints(self.checkpoints)]
                target = max(listed, default=0) if self.final is None else self.final
                if self.solver.iteration < target:
                    self.solver.run(min(target - self.solver.iteration, 500_000))
                elif self.final is not None:
                    return
                else:
                    time.sleep(0.5)  # waiting for the chain's next checkpoint
        except BaseException as exc:  # surfaced by the test
            self.error = exc
        finally:
            self.finished.set()


def _job_outputs(directory: Path) -> dict[int, str]:
    outputs = {}
    for path in directory.glob("holdem-chunk-*.out"):
        match = re.fullmatch(r"holdem-chunk-(\d+)\.out", path.name)
        if match:
            outputs[int(match[1])] = path.read_text(errors="replace")
    return dict(sorted(outputs.items()))


# The test proper; the cluster fixture may first install slurm-wlm and munge with apt-get, which
# its own subprocess timeouts bound.
@pytest.mark.timeout(240, func_only=True)
def test_chained_slurm_jobs_train_to_completion_through_warning_signals(
        cluster: Cluster, tmp_path: Path) -> None:
    logdir = tmp_path / "run"
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    config = MCCFRConfig(time_budget_seconds=TIME_BUDGET, enable_chunked_training=True,
                         chunk_size_minutes=10.0, seed=SEED)
    follower = Follower(logdir / "checkpoints", config)
    follower.start()
    # Chunks of 10 minutes never end by themselves within a 1-minute job: Slurm's warning
    # ends every chunk but the last, which ends at the time budget.
    train_args = ["--game", "leduc", "--logdir", str(logdir), "--time-budget", f"{TIME_BUDGET:g}",
                  "--chunked", "--chunk-minutes", "10", "--seed", str(SEED), "--no-progress",
                  "--no-tensorboard"]
    chain_env = {"SBATCH_TIMELIMIT": "1", "SBATCH_SIGNAL": "B:TERM@50",
                 "HOLDEM_TRAIN": str(REPO / "bin" / "holdem-train-blueprint"),
                 "HOLDEM_MAX_JOBS": "10"}
    started = time.monotonic()
    submitted = cluster.run("sbatch", "--parsable", str(SCRIPT), *train_args, cwd=jobs,
                            extra=chain_env)
    assert submitted.returncode == 0, submitted.stderr
    first = int(submitted.stdout.strip().split(";")[0])
    deadline = started + 200
    while True:
        outputs = _job_outputs(jobs)
        done = any("training complete (exit 3)" in text for text in outputs.values())
        failed = [text for text in outputs.values() if "chunk failed" in text]
        if (done or failed) and not cluster.queue():
            break
        assert time.monotonic() < deadline, (
            f"the chain did not finish; queue {cluster.queue()}\n"
            + "\n".join(outputs.values()) + cluster.diagnostics())
        time.sleep(0.5)  # polling the scheduler
    chain_seconds = time.monotonic() - started
    report = "\n".join(f"=== job {job}\n{text}" for job, text in outputs.items())
    assert not failed, report
    assert min(outputs) == first

    # At least three jobs, each with its own output, in chain order.
    chain_positions = [int(m) for text in outputs.values()
                       for m in re.findall(r"chain job (\d+),", text)[:1]]
    assert len(outputs) >= 3 and chain_positions == list(range(1, len(outputs) + 1)), report
    # Slurm's warning stopped at least one chunk mid-way; it checkpointed and exited 8.
    stopped = [job for job, text in outputs.items()
               if "warning signal received" in text and "(exit 8)" in text]
    assert stopped and stopped[0] == first, report
    stops = []
    for checkpoint in list_checkpoints(logdir / "checkpoints"):
        stop = load_checkpoint(checkpoint).metadata.get("stop")
        if stop is not None:
            assert stop["signal"] == "SIGTERM" and stop["iteration"] == checkpoint.iteration
            stops.append(checkpoint.iteration)
    assert len(stops) == len(stopped), (stops, stopped)
    # Every job after the first resumed where the previous one stopped.
    assert all("Successfully resumed from iteration" in outputs[job] for job in list(outputs)[1:])
    # The last job completed the run and withdrew its queued successor.
    last = outputs[max(outputs)]
    assert "Training complete" in last and "the chain ends here" in last, report

    info = latest_checkpoint(logdir)
    assert info is not None
    meta = load_checkpoint(info).metadata
    assert meta["elapsed_seconds"] >= TIME_BUDGET
    assert len(meta["chunks"]) == len(outputs)
    follower.final = info.iteration
    assert follower.finished.wait(timeout=max(30.0, started + 230 - time.monotonic()))
    assert follower.error is None, follower.error
    assert_same_state(logdir, follower.solver)
    print(f"{len(outputs)} jobs, {len(stopped)} stopped by Slurm's warning, "
          f"{info.iteration} iterations, chain {chain_seconds:.0f} s; "
          + json.dumps({job: re.findall(r"\(exit (\d+)\)", text) for job, text in outputs.items()}))
