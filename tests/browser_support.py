"""Helpers for the browser tests: Debian's Chromium (installed when missing), a JupyterLab
server on a free localhost port with its own settings, and the Chromium flags that work on
machines whose only network is localhost and the package registries."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (``apt-get install -y chromium``); Playwright drives it through
``executable_path``."""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium's own background connections get refused and stall page loads.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

APT_TIMEOUT = 900.0
"""Seconds allowed for ``apt-get update`` and ``apt-get install -y chromium`` together."""

SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 15.0

# JupyterLab settings for a quiet, fully rendered notebook: no news or update toasts over the
# page, and every cell kept in the DOM (no windowed rendering).
LAB_SETTINGS: dict[str, dict[str, object]] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
    },
}


def ensure_chromium() -> str | None:
    """Make sure :data:`CHROMIUM` exists, installing Debian's ``chromium`` package with
    apt-get when running as root. Returns None when it is there, else why it is not."""
    if CHROMIUM.exists():
        return None
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return f"{CHROMIUM} is missing and installing it needs root (apt-get install -y chromium)"
    if shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing and there is no apt-get to install it"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    deadline = time.monotonic() + APT_TIMEOUT
    log: list[str] = []
    # A plain install first (the package lists may be fresh), then with updated lists.
    for commands in ([["apt-get", "install", "-y", "chromium"]],
                     [["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]]):
        for command in commands:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return f"installing chromium took over {APT_TIMEOUT:.0f} s"
            try:
                done = subprocess.run(command, env=env, capture_output=True, text=True,
                                      timeout=remaining, check=False)
            except subprocess.TimeoutExpired:
                return f"installing chromium took over {APT_TIMEOUT:.0f} s"
            log.append(f"$ {' '.join(command)} -> {done.returncode}\n{done.stderr[-1000:]}")
            if done.returncode != 0:
                break
        if CHROMIUM.exists():
            return None
    return "apt-get could not install chromium:\n" + "\n".join(log)


def free_port() -> int:
    """A TCP port free on localhost right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _jupyter_lab_command() -> list[str]:
    """``jupyter lab`` of the running interpreter's environment."""
    jupyter = Path(sys.executable).with_name("jupyter")
    if jupyter.exists():
        return [str(jupyter), "lab"]
    return [sys.executable, "-m", "jupyterlab"]


@dataclass
class LabServer:
    """A running JupyterLab server: ``url`` is its base URL; ``log`` its console output."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}"


def _wait_for_http(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {server.process.returncode}:\n"
                               + server.log_tail())
        try:
            with urllib.request.urlopen(f"{server.url}/api/status", timeout=2.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s:\n"
                               + server.log_tail())
        time.sleep(0.25)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (JupyterLab shuts its kernels down), then SIGKILL to the whole process group
    (the server and its kernels) if it is not gone in time."""
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SERVER_STOP_TIMEOUT)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # stray kernels left in the group
    if process.poll() is None:
        process.wait(timeout=SERVER_STOP_TIMEOUT)


@contextmanager
def jupyter_lab(root_dir: Path, state_dir: Path) -> Iterator[LabServer]:
    """Serve JupyterLab on a free localhost port with ``root_dir`` as its root: no token or
    password, XSRF checks off, settings, workspaces and runtime files under ``state_dir``.
    Stopped (bounded waits) on exit."""
    settings = state_dir / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ,
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(state_dir / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(state_dir / "runtime"),
               JUPYTER_CONFIG_DIR=str(state_dir / "config"),
               PYTHONUNBUFFERED="1")
    port = free_port()
    command = [
        *_jupyter_lab_command(),
        "--no-browser",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.disable_check_xsrf=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = state_dir / "jupyterlab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root_dir, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    server = LabServer(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_for_http(server, SERVER_START_TIMEOUT)
        yield server
    finally:
        _stop(process)
