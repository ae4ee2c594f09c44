"""Fixtures and helpers for the cluster tests (see README.md beside this file).

`cluster` (session) runs the deployment shape of "several instances, one database": one PostgreSQL
database, two `ehr serve` processes on it (A migrates and seeds the demo practice; B starts once A is
ready) sharing one set of secrets, and nginx in front of both, round-robin, no sticky sessions. The
instances trust nginx (EHR_TRUSTED_PROXIES=127.0.0.1/32) and nginx appends the peer to
X-Forwarded-For, so a test can pose as any client address by sending X-Forwarded-For itself.
nginx adds `X-Upstream: 127.0.0.1:PORT` to every answer, which says which instance served it.

Environment:
  EHR_CLUSTER_POSTGRES_URL  postgres://user:pass@host:port/db?sslmode=disable of a server where this
                            session may CREATE DATABASE (default: built from PGHOST/PGPORT/PGUSER/...)
  EHR_BIN                   the server binary (default .build/debug/ehr); never built here
  EHR_NGINX                 the nginx binary (default: nginx on PATH, else /usr/sbin/nginx)
"""

import base64
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EHR_BIN = Path(os.environ.get("EHR_BIN") or ROOT / ".build" / "debug" / "ehr")
DEMO_PASSWORD = "mentalspace-demo"
READY_TIMEOUT = 90.0
API = "/api/v1"

# ---------------------------------------------------------------------------------------------
# Figures: each test adds lines; they are printed in the terminal summary, whatever the capture mode.
# ---------------------------------------------------------------------------------------------

_figures = []


def figure(title, *lines):
    """Record figures to print at the end of the run (e.g. counts of 401 and 429)."""
    _figures.append((title, [str(line) for line in lines]))


def pytest_terminal_summary(terminalreporter):
    if not _figures:
        return
    terminalreporter.section("cluster figures")
    for title, lines in _figures:
        terminalreporter.write_line(f"{title}:")
        for line in lines:
            terminalreporter.write_line(f"    {line}")


# ---------------------------------------------------------------------------------------------
# Order and failure reports
# ---------------------------------------------------------------------------------------------

# The fixture's own checks first, then the points a-d in order.
_MODULE_ORDER = ["test_topology", "test_signin_throttle", "test_refresh_reuse", "test_booking_race",
                 "test_mixed_load_audit"]


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.module.__name__.rsplit(".", 1)[-1]
        return _MODULE_ORDER.index(name) if name in _MODULE_ORDER else len(_MODULE_ORDER)
    items.sort(key=rank)  # stable: tests keep their order inside a module


_active = None        # the running Cluster, for the failure reports
_offsets_key = pytest.StashKey()


def _log_files():
    if _active is None:
        return {}
    files = {f"instance {i.name} log": i.log_path for i in _active.instances}
    files["nginx error log"] = _active.nginx_log.parent / "error.log"
    return files


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report shows what each instance and nginx logged while it ran (warnings and
    errors; the instances log every request at info level, which is left out)."""
    if call.when == "setup":
        offsets = {}
        for title, path in _log_files().items():
            try:
                offsets[title] = Path(path).stat().st_size
            except OSError:
                pass
        item.stash[_offsets_key] = offsets
    outcome = yield
    report = outcome.get_result()
    if not report.failed or call.when == "teardown":
        return
    offsets = item.stash.get(_offsets_key, {})
    for title, path in _log_files().items():
        try:
            with open(path, "rb") as log:
                log.seek(offsets.get(title, 0))
                lines = log.read().decode("utf-8", "replace").splitlines()
        except OSError as error:
            report.sections.append((title, f"(unavailable: {error})"))
            continue
        kept = [line for line in lines if '"level":"info"' not in line and '"level":"debug"' not in line]
        report.sections.append((title, "\n".join(kept[-60:]) or "(no warnings or errors)"))


# ---------------------------------------------------------------------------------------------
# HTTP (stdlib http.client: one connection per request, no proxy settings from the environment)
# ---------------------------------------------------------------------------------------------

class Reply:
    """An HTTP answer: status, headers (case-insensitive .get), body text, json (None when not JSON)."""

    def __init__(self, status, headers, body, base, method, path):
        self.status = status
        self.headers = headers
        self.text = body.decode("utf-8", "replace")
        self.base, self.method, self.path = base, method, path
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.method} {self.base}{self.path} -> {self.status} {self.text[:300]!r}>"


class Call:
    """One request, prepared so that a thread can connect first and send at a signal (see `race`)."""

    def __init__(self, base, method, path, body=None, token=None, headers=None, timeout=60.0, raw=None):
        parts = urllib.parse.urlsplit(base)
        self.base, self.method, self.path = base, method, path
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.headers = {"Accept": "application/json", "Connection": "close", "User-Agent": "ehr-cluster-tests"}
        self.payload = raw   # a body as given (bytes; set Content-Type in headers), or `body` as JSON
        if body is not None:
            self.payload = json.dumps(body).encode()
            self.headers["Content-Type"] = "application/json"
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.headers.update(headers or {})

    def connect(self):
        self.connection.connect()
        return self

    def send(self):
        try:
            self.connection.request(self.method, self.path, body=self.payload, headers=self.headers)
            response = self.connection.getresponse()
            return Reply(response.status, response.headers, response.read(), self.base, self.method, self.path)
        finally:
            self.connection.close()


def call(base, method, path, body=None, token=None, headers=None, timeout=60.0, raw=None):
    """Send one request and return its Reply (no exception for 4xx/5xx, no redirect followed)."""
    return Call(base, method, path, body, token, headers, timeout, raw).send()


def race(calls):
    """Send every Call at once: each thread connects, then all wait at a barrier and send together.
    Returns the replies in the order of `calls` (an exception in place of a reply if one failed)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, prepared):
        try:
            prepared.connect()
            barrier.wait(timeout=60)
            results[index] = prepared.send()
        except Exception as error:  # reported by the caller, with the others' outcomes
            results[index] = error
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def all_replies(results):
    """Assert that every raced request got an answer; return the replies."""
    failed = [r for r in results if not isinstance(r, Reply)]
    assert not failed, f"{len(failed)} of {len(results)} requests got no answer: {failed[:3]}"
    return results


def _http_status(url, timeout=2.0):
    parts = urllib.parse.urlsplit(url)
    try:
        return call(f"{parts.scheme}://{parts.netloc}", "GET", parts.path, timeout=timeout).status
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, limit=8000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as error:
        return f"(no log: {error})"
    return text if len(text) <= limit else "…\n" + text[-limit:]


def _stop(process):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _postgres_admin_url():
    url = os.environ.get("EHR_CLUSTER_POSTGRES_URL")
    if url:
        return url
    if not os.environ.get("PGPORT") and not os.environ.get("PGHOST"):
        pytest.exit("the cluster tests need PostgreSQL: EHR_CLUSTER_POSTGRES_URL (or PGHOST/PGPORT/...); "
                    "use scripts/cluster-tests", returncode=2)
    host = os.environ.get("PGHOST", "127.0.0.1")
    if host.startswith("/"):  # a socket directory: the server listens on TCP localhost too
        host = "127.0.0.1"
    user = urllib.parse.quote(os.environ.get("PGUSER", "postgres"), safe="")
    password = os.environ.get("PGPASSWORD")
    auth = user + (":" + urllib.parse.quote(password, safe="") if password else "")
    return (f"postgres://{auth}@{host}:{os.environ.get('PGPORT', '5432')}/"
            f"{os.environ.get('PGDATABASE', 'postgres')}?sslmode=disable")


def _psql(url, sql):
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({sql}): {result.stderr.strip()}")
    return result.stdout


def _with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def _nginx_binary():
    configured = os.environ.get("EHR_NGINX")
    if configured:
        return configured
    return shutil.which("nginx") or "/usr/sbin/nginx"


def _write_secret(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _make_secrets(directory):
    """The secrets both instances (and the CLI) share, generated once: the ES256 signing key (PEM, PKCS#8)
    as README says (openssl), and the master and audit keys (32 random bytes, base64)."""
    directory.mkdir(mode=0o700)
    ec = subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"],
                        capture_output=True, check=True)
    pem = subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt"], input=ec.stdout,
                         capture_output=True, check=True)
    paths = {"EHR_JWT_PRIVATE_KEY_FILE": directory / "jwt-es256.pem",
             "EHR_MASTER_KEY_FILE": directory / "master.key",
             "EHR_AUDIT_KEY_FILE": directory / "audit.key"}
    _write_secret(paths["EHR_JWT_PRIVATE_KEY_FILE"], pem.stdout)
    _write_secret(paths["EHR_MASTER_KEY_FILE"], base64.b64encode(secrets.token_bytes(32)) + b"\n")
    _write_secret(paths["EHR_AUDIT_KEY_FILE"], base64.b64encode(secrets.token_bytes(32)) + b"\n")
    return {name: str(path) for name, path in paths.items()}


@dataclass
class Instance:
    name: str
    port: int
    base: str
    log_path: Path
    process: subprocess.Popen = None

    def log_text(self):
        return Path(self.log_path).read_text(errors="replace")

    def logged_request_ids(self):
        """The request ids of the request lines in this instance's log (EHR_LOG_FORMAT=json)."""
        ids = set()
        for line in self.log_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("message") == "request" and "request.id" in entry:
                ids.add(entry["request.id"])
        return ids


@dataclass
class Cluster:
    """The running cluster: `lb` is nginx's base URL, `a` and `b` the instances."""
    lb: str
    a: Instance
    b: Instance
    env: dict
    workdir: Path
    nginx_log: Path
    database_url: str
    _by_upstream: dict = field(default_factory=dict)

    @property
    def instances(self):
        return (self.a, self.b)

    def served_by(self, reply):
        """Which instance ('A' or 'B') answered: nginx's X-Upstream header, or the base of a direct call."""
        if reply.base == self.lb:
            upstream = reply.headers.get("X-Upstream")
            return self._by_upstream.get(upstream, f"?{upstream}")
        for instance in self.instances:
            if reply.base == instance.base:
                return instance.name
        return "?"

    def ehr(self, *args, extra_env=None, timeout=300):
        """Run the ehr command line against the cluster's database and secrets."""
        env = dict(self.env)
        env.update(extra_env or {})
        return subprocess.run([str(EHR_BIN), *args], env=env, cwd=self.workdir, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def login(self, email, password=DEMO_PASSWORD, tenant="demo", base=None, client_ip=None):
        """POST /auth/login (through nginx unless `base` says otherwise); returns the Reply."""
        headers = {"X-Forwarded-For": client_ip} if client_ip else None
        return call(base or self.lb, "POST", f"{API}/auth/login",
                    {"tenant": tenant, "email": email, "password": password}, headers=headers)

    def sign_in(self, email, password=DEMO_PASSWORD, tenant="demo"):
        """A successful sign-in through nginx: the TokenResponse JSON."""
        reply = self.login(email, password, tenant)
        assert reply.status == 200, f"sign-in of {email} ({tenant}) failed: {reply!r}"
        return reply.json


def _server_env(workdir, database_url, key_files):
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("EHR_") or k == "DATABASE_URL" or k.startswith("PG"))}
    env.update({"EHR_ENV": "development", "DATABASE_URL": database_url,
                "EHR_TRUSTED_PROXIES": "127.0.0.1/32", "EHR_LOG_LEVEL": "info", "EHR_LOG_FORMAT": "json",
                "EHR_DATA_DIR": str(Path(workdir) / "data-cli")})
    env.update(key_files)
    return env


def _start_instance(name, workdir, base_env, seed):
    """Start `ehr serve` on a free port with its own data directory; wait until GET /ready answers 200."""
    last_log = None
    for attempt in range(3):  # a port taken between _free_port() and bind(): try another
        port = _free_port()
        data_dir = Path(tempfile.mkdtemp(prefix=f"data-{name}-", dir=workdir))
        log_path = Path(workdir) / f"instance-{name}-{attempt}.log"
        env = dict(base_env)
        env.update({"EHR_DATA_DIR": str(data_dir), "EHR_SEED_DEMO": "true" if seed else "false"})
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(EHR_BIN), "serve", "--hostname", "127.0.0.1", "--port", str(port)],
                cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if _http_status(base + "/ready") == 200:
                return Instance(name, port, base, log_path, process)
            time.sleep(0.2)
        last_log = log_path
        if process.poll() is None:
            _stop(process)
            pytest.fail(f"instance {name} did not answer 200 on {base}/ready within {READY_TIMEOUT:.0f} s.\n"
                        f"--- log ({log_path}) ---\n{_tail(log_path)}", pytrace=False)
        if "address already in use" not in _tail(log_path).lower():
            break
    pytest.fail(f"instance {name} exited with status {process.returncode} before it was ready.\n"
                f"--- log ({last_log}) ---\n{_tail(last_log)}", pytrace=False)


NGINX_CONF = """\
{user}
worker_processes 1;          # one round-robin state: consecutive requests alternate A, B, A, B
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$remote_addr "$request" $status upstream=$upstream_addr '
                        'request_id=$http_x_request_id xff="$http_x_forwarded_for" rt=$request_time';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    upstream ehr {{
        # Plain round-robin, no sticky sessions; never take an instance out of the rotation.
        server 127.0.0.1:{port_a} max_fails=0;
        server 127.0.0.1:{port_b} max_fails=0;
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://ehr;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream off;   # a request goes to one instance only: never replayed on the other
            proxy_read_timeout 120s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def _start_nginx(workdir, port_a, port_b):
    directory = Path(workdir) / "nginx"
    directory.mkdir()
    for attempt in range(3):
        port = _free_port()
        conf = directory / "nginx.conf"
        conf.write_text(NGINX_CONF.format(
            user="user root root;" if os.geteuid() == 0 else "", dir=directory,
            port=port, port_a=port_a, port_b=port_b))
        log_path = directory / "nginx.out"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [_nginx_binary(), "-c", str(conf), "-p", str(directory), "-e", str(directory / "error.log")],
                cwd=directory, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            if _http_status(base + "/health") == 200:
                return process, base, directory
            time.sleep(0.1)
        _stop(process)
        errors = _tail(log_path) + _tail(directory / "error.log")
        if "address already in use" not in errors.lower():
            break
    pytest.fail(f"nginx did not start (or did not proxy /health).\n{errors}", pytrace=False)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    if not EHR_BIN.is_file() or not os.access(EHR_BIN, os.X_OK):
        pytest.exit(f"{EHR_BIN} is missing: build the server first (swift build --product ehr)", returncode=2)
    if not os.access(_nginx_binary(), os.X_OK):
        pytest.exit(f"{_nginx_binary()} is missing: apt-get install nginx (or use scripts/cluster-tests)",
                    returncode=2)
    workdir = tmp_path_factory.mktemp("ehr-cluster")
    admin_url = _postgres_admin_url()
    db_name = "ehr_cluster_" + secrets.token_hex(6)
    _psql(admin_url, f'CREATE DATABASE "{db_name}"')
    database_url = _with_database(admin_url, db_name)
    env = _server_env(workdir, database_url, _make_secrets(workdir / "secrets"))
    a = b = nginx = None
    try:
        a = _start_instance("A", workdir, env, seed=True)      # migrates and seeds the demo practice
        b = _start_instance("B", workdir, env, seed=False)     # the same database, once A is ready
        nginx, lb, nginx_dir = _start_nginx(workdir, a.port, b.port)
        result = Cluster(lb=lb, a=a, b=b, env=env, workdir=workdir, nginx_log=nginx_dir / "access.log",
                         database_url=database_url,
                         _by_upstream={f"127.0.0.1:{a.port}": "A", f"127.0.0.1:{b.port}": "B"})
        global _active
        _active = result
        yield result
    finally:
        _active = None
        _stop(nginx)
        for instance in (b, a):
            if instance is not None:
                _stop(instance.process)
                if instance.process.returncode not in (0, -15, 143):
                    print(f"\ninstance {instance.name} ended with status {instance.process.returncode}; "
                          f"log:\n{_tail(instance.log_path)}")
        try:
            _psql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        except Exception as error:  # never hide the tests' own result behind a clean-up problem
            print(f"\nwarning: could not drop {db_name}: {error}")


# ---------------------------------------------------------------------------------------------
# Practices: the seeded demo practice and a second one made with `ehr tenant create`
# ---------------------------------------------------------------------------------------------

@dataclass
class Practice:
    slug: str
    admin_email: str
    password: str
    therapists: dict   # email -> user id
    patients: dict     # therapist user id -> [patient ids assigned to them]
    passwords: dict = field(default_factory=dict)   # therapist email -> password, when not `password`
    _sessions: dict = field(default_factory=dict)   # email -> (TokenResponse, when it was issued)

    def session(self, cluster, email):
        """The TokenResponse of a sign-in of the account through nginx, reused for 10 minutes (access
        tokens last 15; every sign-in costs a bcrypt verification)."""
        cached = self._sessions.get(email)
        if cached is None or time.monotonic() - cached[1] > 600:
            reply = cluster.sign_in(email, self.passwords.get(email, self.password), self.slug)
            cached = self._sessions[email] = (reply, time.monotonic())
        return cached[0]

    def token(self, cluster, email):
        return self.session(cluster, email)["accessToken"]

    def admin_token(self, cluster):
        return self.token(cluster, self.admin_email)

    def therapist_token(self, cluster, email):
        return self.token(cluster, email)


def _patients_by_therapist(cluster, admin_token):
    reply = call(cluster.lb, "GET", f"{API}/patients?limit=100", token=admin_token)
    assert reply.status == 200, reply
    assigned = {}
    for patient in reply.json["items"]:
        if patient["status"] == "active":
            assigned.setdefault(patient["assignedTherapistId"], []).append(patient["id"])
    return assigned


@pytest.fixture(scope="session")
def demo(cluster):
    practice = Practice("demo", "admin@demo.test", DEMO_PASSWORD, {}, {})
    for email in ("dr.smith@demo.test", "dr.johnson@demo.test"):
        practice.therapists[email] = practice.session(cluster, email)["user"]["id"]
    practice.patients = _patients_by_therapist(cluster, practice.admin_token(cluster))
    return practice


@pytest.fixture(scope="session")
def acme(cluster):
    """A second practice: `ehr tenant create`, then two therapists invited and two patients each (API)."""
    password = "acme-admin-" + secrets.token_hex(8)
    created = cluster.ehr("tenant", "create", "--slug", "acme", "--name", "Acme Counseling",
                          "--admin-email", "admin@acme.test", extra_env={"EHR_ADMIN_PASSWORD": password})
    assert created.returncode == 0, f"ehr tenant create failed:\n{created.stdout}\n{created.stderr}"
    practice = Practice("acme", "admin@acme.test", password, {}, {})
    admin = practice.admin_token(cluster)
    for index, name in enumerate(("Dr. Ada Quinn", "Dr. Ravi Patel")):
        email = f"therapist{index + 1}@acme.test"
        reply = call(cluster.lb, "POST", f"{API}/providers", {
            "email": email, "displayName": name, "licenseNumber": f"LP-{1000 + index}",
            "licenseState": "NY", "credentials": "PhD, LP", "specialties": ["CBT"]}, token=admin)
        assert reply.status == 201, reply
        therapist_password = "acme-therapist-" + secrets.token_hex(8)
        accepted = call(cluster.lb, "POST", f"{API}/auth/accept-invite",
                        {"token": reply.json["invitationToken"], "password": therapist_password})
        assert accepted.status in (200, 204), accepted
        practice.passwords[email] = therapist_password
        user_id = practice.therapists[email] = practice.session(cluster, email)["user"]["id"]
        for n in range(2):
            patient = call(cluster.lb, "POST", f"{API}/patients", {
                "firstName": f"Pat{n}", "lastName": f"Acme{index}", "dateOfBirth": "1990-01-0" + str(n + 1),
                "assignedTherapistId": user_id}, token=admin)
            assert patient.status == 201, patient
    practice.patients = _patients_by_therapist(cluster, admin)
    return practice


def status_counts(replies):
    """Counter of statuses ('error: …' for a request that got no answer)."""
    return Counter(r.status if isinstance(r, Reply) else f"error: {r!r}" for r in replies)
