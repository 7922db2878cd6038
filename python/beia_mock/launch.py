"""Starting the beia mock: the Docker image, or the ``beia`` command; stopping it again."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .http import send

# The first line `beia mock` prints once it serves (LISTENING_LINE in beia-kit/mock).
LISTENING_LINE = re.compile(r"^beia mock (\S+) listening on (\[[^\]]+\]|[^\s:]+):(\d+)", re.MULTILINE)
# The banner's admin line when the mock made a token: "token required: Authorization: Bearer <token>".
TOKEN_LINE = re.compile(r"Authorization: Bearer (\S+)")
# What every container this helper starts carries, so a crashed run's leftovers can be found.
LABEL = "beia-kit.python=true"
CONTAINER_PORT = 8080
LOG_LINES_SHOWN = 20


class MockStartError(RuntimeError):
    """The mock did not start: why, what to do, and its last log lines when it printed any."""


def token_from_logs(logs: str) -> Optional[str]:
    """The admin token a mock made and printed at start (``docker logs <container> | grep Bearer``).

    >>> token_from_logs("  admin     http://0.0.0.0:8080/__admin  token required: Authorization: Bearer abc123  (made for this run; ...)")
    'abc123'
    """
    found = TOKEN_LINE.search(logs)
    return found.group(1) if found else None


def _tail(logs: str) -> str:
    lines = [line for line in logs.splitlines() if line.strip()][-LOG_LINES_SHOWN:]
    return ("\nIts last log lines:\n  " + "\n  ".join(lines)) if lines else "\nIt printed nothing."


def _config_json(config: Union[None, str, Mapping[str, Any]]) -> Optional[str]:
    if config is None:
        return None
    if isinstance(config, str):
        with open(config, encoding="utf-8") as handle:
            return json.dumps(json.load(handle))
    return json.dumps(config)


def wait_healthy(url: str, timeout: float, is_alive: Any = None, describe: Any = None) -> None:
    """Polls ``GET /__admin/health`` until it answers ``"status": "ok"``; raises MockStartError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if is_alive is not None and not is_alive():
            raise MockStartError(f"Failed to start the beia mock: it stopped before it was healthy.{describe() if describe else ''}")
        try:
            # http.client, not urllib: an HTTP_PROXY in the environment must not carry loopback calls.
            answer = send("GET", f"{url}/__admin/health", timeout=2)
            body = answer.json() if answer.status == 200 else {}
            if body.get("status") == "ok":
                return
            last = f"{answer.status} {answer.text[:200]}"
        except (ConnectionError, OSError, ValueError) as error:
            last = str(error)
        if time.monotonic() > deadline:
            raise MockStartError(
                f"Failed to reach the beia mock at {url}: /__admin/health did not answer ok within {timeout:g} s ({last}). "
                f"Is it running at that address?{describe() if describe else ''}"
            )
        time.sleep(0.1)


class Container:
    """A ``beia-kit/mock`` container this helper started; ``stop()`` removes it."""

    def __init__(self, docker: str, container_id: str, network: Optional[str]) -> None:
        self.docker = docker
        self.id = container_id
        self._network = network

    def _run(self, *args: str, check: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([self.docker, *args], capture_output=True, text=True, timeout=timeout, check=check)

    def logs(self) -> str:
        run = self._run("logs", self.id)
        return run.stdout + run.stderr

    def state(self) -> Tuple[bool, Optional[int]]:
        run = self._run("inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", self.id)
        if run.returncode != 0:
            return False, None
        running, code = run.stdout.split()
        return running == "true", int(code)

    def stop(self) -> None:
        # docker stop lets the requests in flight finish (the mock's SIGTERM handling), then rm.
        self._run("stop", "-t", "15", self.id, timeout=60)
        self._run("rm", "-f", self.id)
        if self._network:
            self._run("network", "rm", self._network)
            self._network = None


def _docker_tool(docker: str) -> str:
    found = shutil.which(docker)
    if not found:
        raise MockStartError(f"Failed to start the beia mock container: no {docker!r} command on PATH. Install Docker, or start the mock yourself and pass its URL (BEIA_MOCK_URL).")
    run = subprocess.run([found, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30)
    if run.returncode != 0:
        raise MockStartError(
            f"Failed to start the beia mock container: no Docker engine answers ({run.stderr.strip() or 'docker info failed'}). Start one, or set DOCKER_HOST."
        )
    return found


def start_container(
    image: str,
    *,
    network: str = "mapped",
    admin_token: Optional[str] = None,
    config: Union[None, str, Mapping[str, Any]] = None,
    env: Optional[Mapping[str, str]] = None,
    timeout: float = 60.0,
    docker: str = "docker",
    recordings: Optional[str] = None,
    recordings_strict: bool = False,
) -> Tuple[Container, str, Optional[str]]:
    """Runs the image detached; returns the container, the mock's URL and its admin token.

    ``network="mapped"``: the container's 8080 on a free port of 127.0.0.1 (``-p 127.0.0.1::8080``),
    as on any Docker engine; an engine without a default bridge network gets a network of its own.
    The mock listens on every address of the container, so it makes an admin token, which is read
    from its logs unless ``admin_token`` sets one. ``network="host"``: the host's network (Linux),
    the mock on 127.0.0.1 at a free port it picks itself, its admin API open on loopback.
    """
    if network not in ("mapped", "host"):
        raise ValueError(f'network is {network!r}; expected "mapped" or "host".')
    docker = _docker_tool(docker)
    present = subprocess.run([docker, "image", "inspect", image], capture_output=True, timeout=30).returncode == 0
    name = image.split("@")[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    if not present and name == "beia-kit/mock":
        raise MockStartError(
            f"Failed to start the beia mock container: {image} is not on this Docker engine, and images named beia-kit/mock "
            'are never pulled (no registry publishes them). Build it in beia-kit with "npm run docker:build", '
            "or name your registry's copy in BEIA_MOCK_IMAGE."
        )
    flags: List[str] = ["run", "-d", "--label", LABEL]
    own_network = None
    environment: Dict[str, str] = dict(env or {})
    if recordings is not None:
        # Replay recordings of the live API (docs/recordings.md): the folder bound read-only, readable by the image's uid 1000.
        flags += ["-v", f"{os.path.abspath(recordings)}:/recordings:ro"]
        environment["BEIA_MOCK_RECORDINGS"] = "/recordings"
        if recordings_strict:
            environment["BEIA_MOCK_RECORDINGS_STRICT"] = "1"
    if network == "host":
        flags += ["--network", "host"]
        environment.update({"BEIA_MOCK_HOST": "127.0.0.1", "BEIA_MOCK_PORT": "0"})
    else:
        has_bridge = subprocess.run([docker, "network", "inspect", "bridge"], capture_output=True, timeout=30).returncode == 0
        if not has_bridge:
            own_network = f"beia-mock-{uuid.uuid4().hex[:8]}"
            made = subprocess.run([docker, "network", "create", "--label", LABEL, own_network], capture_output=True, text=True, timeout=60)
            if made.returncode != 0:
                raise MockStartError(f"Failed to start the beia mock container: docker network create failed: {made.stderr.strip()}")
            flags += ["--network", own_network]
        flags += ["-p", f"127.0.0.1::{CONTAINER_PORT}"]
    if admin_token:
        environment["BEIA_MOCK_ADMIN_TOKEN"] = admin_token
    config_json = _config_json(config)
    if config_json is not None:
        environment["BEIA_MOCK_CONFIG_JSON"] = config_json
    for key, value in environment.items():
        flags += ["-e", f"{key}={value}"]
    run = subprocess.run([docker, *flags, image], capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        if own_network:
            subprocess.run([docker, "network", "rm", own_network], capture_output=True, timeout=60)
        raise MockStartError(f"Failed to start the beia mock container ({image}): docker run failed: {run.stderr.strip()}")
    container = Container(docker, run.stdout.strip(), own_network)
    try:
        url, token = _wait_for_container(container, image, network, timeout)
        return container, url, admin_token or token
    except BaseException:
        container.stop()
        raise


def _wait_for_container(container: Container, image: str, network: str, timeout: float) -> Tuple[str, Optional[str]]:
    deadline = time.monotonic() + timeout
    while True:
        logs = container.logs()
        listening = LISTENING_LINE.search(logs)
        if listening:
            break
        running, code = container.state()
        if not running:
            raise MockStartError(f"Failed to start the beia mock container ({image}): it exited with code {code}.{_tail(container.logs())}")
        if time.monotonic() > deadline:
            raise MockStartError(f"Failed to start the beia mock container ({image}): it printed no listening line within {timeout:g} s.{_tail(logs)}")
        time.sleep(0.1)
    if network == "host":
        port = int(listening.group(3))
    else:
        mapped = container._run("port", container.id, f"{CONTAINER_PORT}/tcp").stdout.strip().splitlines()
        if not mapped:
            raise MockStartError(f"Failed to start the beia mock container ({image}): docker port shows no mapping of {CONTAINER_PORT}.{_tail(logs)}")
        port = int(mapped[0].rsplit(":", 1)[1])
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, max(5.0, deadline - time.monotonic()), lambda: container.state()[0], lambda: _tail(container.logs()))
    return url, token_from_logs(logs)


class Process:
    """A ``beia mock`` process this helper started; ``stop()`` ends it with SIGTERM."""

    def __init__(self, popen: subprocess.Popen, log_path: str) -> None:
        self.popen = popen
        self.log_path = log_path

    def logs(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
                self.popen.wait(timeout=15)
        try:
            os.unlink(self.log_path)
        except OSError:
            pass

    def _signal(self, sig: int) -> None:
        # The process group: npx (or a shell) and the mock under it.
        try:
            if hasattr(os, "killpg"):
                os.killpg(self.popen.pid, sig)
            else:
                self.popen.send_signal(sig)
        except ProcessLookupError:
            pass


def mock_command(command: Union[None, str, Sequence[str]] = None) -> List[str]:
    """The command that runs the mock: the one given (or BEIA_MOCK_COMMAND), else ``beia mock``, else ``npx --no-install beia mock``."""
    if command is None:
        command = os.environ.get("BEIA_MOCK_COMMAND") or None
    if isinstance(command, str):
        return shlex.split(command)
    if command is not None:
        return list(command)
    if shutil.which("beia"):
        return ["beia", "mock"]
    if shutil.which("npx"):
        return ["npx", "--no-install", "beia", "mock"]
    raise MockStartError(
        "Failed to start beia mock: no beia command on PATH and no npx. Install beia-kit (npm i -D beia-kit) "
        'and run from your project, or name the command in BEIA_MOCK_COMMAND (e.g. "node /path/to/beia-kit/dist/cli/index.js mock").'
    )


def start_command(
    command: Union[None, str, Sequence[str]] = None,
    *,
    admin_token: Optional[str] = None,
    config: Union[None, str, Mapping[str, Any]] = None,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    timeout: float = 60.0,
    recordings: Optional[str] = None,
    recordings_strict: bool = False,
) -> Tuple[Process, str, Optional[str]]:
    """Runs ``beia mock`` on 127.0.0.1 at a free port; returns the process, the mock's URL and its admin token."""
    argv = mock_command(command) + ["--host", "127.0.0.1", "--port", "0", "--log-format", "json"]
    if recordings is not None:
        argv += ["--recordings", os.path.abspath(recordings)] + (["--recordings-strict"] if recordings_strict else [])
    if admin_token:
        argv += ["--admin-token", admin_token]
    config_json = _config_json(config)
    if config_json is not None:
        argv += ["--config-json", config_json]
    environment = dict(os.environ)
    # The mock reads BEIA_MOCK_* too; the flags above win, and the helper's own settings stay out.
    for key in ("BEIA_MOCK_URL", "BEIA_MOCK_START", "BEIA_MOCK_COMMAND", "BEIA_MOCK_IMAGE"):
        environment.pop(key, None)
    environment.update(env or {})
    handle, log_path = tempfile.mkstemp(prefix="beia-mock-", suffix=".log")
    try:
        popen = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, env=environment, start_new_session=True)
    except OSError as error:
        os.close(handle)
        os.unlink(log_path)
        raise MockStartError(f"Failed to start beia mock ({shlex.join(argv)}): {error}. Name the command in BEIA_MOCK_COMMAND.") from error
    os.close(handle)
    process = Process(popen, log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            logs = process.logs()
            listening = LISTENING_LINE.search(logs)
            if listening:
                break
            code = popen.poll()
            if code is not None:
                raise MockStartError(f"Failed to start beia mock ({shlex.join(argv[:4])} ...): it exited with code {code}.{_tail(process.logs())}")
            if time.monotonic() > deadline:
                raise MockStartError(f"Failed to start beia mock ({shlex.join(argv[:4])} ...): it printed no listening line within {timeout:g} s.{_tail(logs)}")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{listening.group(3)}"
        wait_healthy(url, 10.0, lambda: popen.poll() is None, lambda: _tail(process.logs()))
        return process, url, admin_token or token_from_logs(logs)
    except BaseException:
        process.stop()
        raise
