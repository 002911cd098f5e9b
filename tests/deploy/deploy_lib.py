"""Helpers shared by the deployment tests (python3 standard library only).

Tools come from the environment CTest sets (KUBECTL, YQ, PROMTOOL, PROMETHEUS, CURL,
PODMORTEM_BINARY, PODMORTEM_SOURCE_DIR) and fall back to PATH and to this checkout, so a test
can also be run by hand: `python3 tests/deploy/<test>.py`. A missing tool skips the test (exit
77, CTest's SKIP_RETURN_CODE); anything else that goes wrong fails it.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

SKIP = 77
SOURCE_DIR = Path(os.environ.get("PODMORTEM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
MANIFESTS = SOURCE_DIR / "manifests"
OWN_FIXTURES = SOURCE_DIR / "tests" / "fixtures"


class Failure(Exception):
    pass


def skip(message):
    print(f"SKIPPED: {message}")
    sys.exit(SKIP)


def tool(name, env=None):
    """Path of a program: $env if set (and not CMake's NOTFOUND), else PATH; skips if absent."""
    path = os.environ.get(env or name.upper(), "")
    if path and not path.endswith("NOTFOUND"):
        return path
    found = shutil.which(name)
    if not found:
        skip(f"{name} is not installed")
    return found


def binary():
    path = os.environ.get("PODMORTEM_BINARY") or str(SOURCE_DIR / "build" / "podmortem")
    if not os.access(path, os.X_OK):
        raise Failure(f"podmortem binary not found at {path} (build it first)")
    return path


def run(args, stdin=None, check=True, timeout=60):
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise Failure(f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
    return proc


def kustomize(path):
    """`kubectl kustomize PATH` as YAML text."""
    return run([tool("kubectl"), "kustomize", str(path)]).stdout


def yaml_documents(text):
    """YAML documents as JSON values, through yq (a jq wrapper for YAML)."""
    out = run([tool("yq"), "-s", "-c", "."], stdin=text).stdout
    return [doc for doc in json.loads(out) if doc is not None]


def render(path):
    """The objects a kustomization renders, as dicts."""
    return yaml_documents(kustomize(path))


def yaml_file(path):
    docs = yaml_documents(Path(path).read_text())
    if len(docs) != 1:
        raise Failure(f"{path}: expected one YAML document, found {len(docs)}")
    return docs[0]


def find(objects, kind, name=None):
    found = [o for o in objects if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]
    if not found:
        raise Failure(f"no {kind}{' ' + name if name else ''} in the rendered objects")
    return found


def one(objects, kind, name=None):
    found = find(objects, kind, name)
    if len(found) != 1:
        raise Failure(f"expected one {kind}{' ' + name if name else ''}, found {len(found)}")
    return found[0]


def free_ports(count):
    """Ports that were free on 127.0.0.1 a moment ago (all bound at once, so distinct)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_until(predicate, timeout, what, interval=0.05, alive=None):
    """Polls predicate() until it returns a true value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None:
            alive()
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def http_get(url, timeout=2, context=None):
    """(status, body) or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout, ssl.SSLError):
        return None


def http_post(url, body, headers=None, timeout=15, context=None):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Process:
    """A child process, stopped when the test ends (it stays in the test's process group, so
    CTest's timeout reaches it too)."""

    def __init__(self, args, log_path, env=None):
        self.args = [str(a) for a in args]
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT, env=env)

    def check_alive(self):
        code = self.proc.poll()
        if code is not None:
            raise Failure(f"{Path(self.args[0]).name} exited with {code}:\n{self.log()}")

    def log(self):
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Podmortem:
    """`podmortem serve` on free 127.0.0.1 ports with its own state, evidence and policy folders."""

    def __init__(self, workdir, policies=(), extra_args=(), config=None, env=None, ca_file=None):
        """ca_file: the CA of a serving certificate given with --tls-cert-file; by default the
        one podmortem generates in its state folder."""
        self.dir = Path(workdir)
        self._ca_file = Path(ca_file) if ca_file else None
        self.state = self.dir / "state"
        self.evidence = self.dir / "evidence"
        self.policies = self.dir / "policies"
        for d in (self.state, self.evidence, self.policies):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        for policy in policies:
            shutil.copy(policy, self.policies)
        self.token = "deploy-test-token-" + os.urandom(12).hex()
        self.token_file = self.dir / "audit-token"
        self.token_file.write_text(self.token)
        self.token_file.chmod(0o600)
        self.webhook_port, self.metrics_port = free_ports(2)
        args = [binary(), "serve"]
        if config is not None:
            args += ["--config", config]
        args += ["--listen", f"127.0.0.1:{self.webhook_port}",
                 "--metrics-listen", f"127.0.0.1:{self.metrics_port}",
                 "--state-dir", self.state, "--evidence-dir", self.evidence,
                 "--policies-dir", self.policies, "--log-format", "text",
                 "--set", "audit.auth=token", "--set", f"audit.tokenFile={self.token_file}",
                 # local mode unless the test asks otherwise, whatever kubeconfig the machine has
                 *([] if any("kubernetes.mode" in str(a) for a in extra_args) or config is not None
                   else ["--set", "kubernetes.mode=none"]),
                 *extra_args]
        self.process = Process(args, self.dir / "podmortem.log", env=env)

    @property
    def ca_file(self):
        return self._ca_file or self.state / "tls" / "ca.crt"

    @property
    def webhook_url(self):
        return f"https://127.0.0.1:{self.webhook_port}"

    @property
    def metrics_url(self):
        return f"http://127.0.0.1:{self.metrics_port}"

    def tls_context(self):
        return ssl.create_default_context(cafile=str(self.ca_file))

    def wait_ready(self, timeout=15):
        def ready():
            answer = http_get(self.metrics_url + "/readyz")
            return answer is not None and answer[0] == 200 and self.ca_file.exists()
        wait_until(ready, timeout, "podmortem /readyz", alive=self.process.check_alive)
        wait_until(lambda: (http_get(self.webhook_url + "/readyz", context=self.tls_context()) or (0,))[0] == 200,
                   timeout, "podmortem HTTPS /readyz", alive=self.process.check_alive)
        return self

    def wait_serving(self, timeout=15):
        """Both listeners answer /healthz (readiness may wait for a Kubernetes API)."""
        wait_until(lambda: (http_get(self.metrics_url + "/healthz") or (0,))[0] == 200 and self.ca_file.exists(),
                   timeout, "podmortem /healthz", alive=self.process.check_alive)
        wait_until(lambda: (http_get(self.webhook_url + "/healthz", context=self.tls_context()) or (0,))[0] == 200,
                   timeout, "podmortem HTTPS /healthz", alive=self.process.check_alive)
        return self

    def metrics_text(self):
        answer = http_get(self.metrics_url + "/metrics")
        if answer is None or answer[0] != 200:
            raise Failure(f"GET /metrics answered {answer}")
        return answer[1]

    def stop(self):
        self.process.stop()


def metric_families(text):
    """{family name: type} from the Prometheus text format."""
    families = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            families[name] = kind.strip()
        elif line and not line.startswith("#"):
            name = line.split("{", 1)[0].split(" ", 1)[0]
            families.setdefault(name, "untyped")
    return families


def _terminated(signum, frame):
    raise SystemExit(f"terminated by signal {signum}")


def main(test):
    """Runs test(workdir) in a fresh temporary folder; prints PASS/FAIL and exits accordingly.
    SIGTERM and SIGINT unwind normally, so every started process is stopped."""
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGINT, _terminated)
    with tempfile.TemporaryDirectory(prefix="podmortem-deploy-") as workdir:
        try:
            test(Path(workdir))
        except Failure as failure:
            print(f"FAIL: {failure}")
            sys.exit(1)
    print("PASS")
    sys.exit(0)
