#!/usr/bin/env python3
"""SQL injection probe of the API with sqlmap (run it through scripts/sqlmap-probe).

Starts one `ehr serve` on a fresh data directory (SQLite) or a fresh database (PostgreSQL) with the
demo practice, signs in once as the admin and once as a therapist (the sign-in throttle allows 5
failures per 15 minutes: never more than one sign-in per role; tokens are refreshed, never re-issued,
and logout is never called, so no request of sqlmap can revoke them), reads real ids, dates and
cursors from the API so that every target's baseline request answers 200 with at least one item, and
runs sqlmap in batch mode on every list filter, search parameter, cursor and path id.

One line per target, then `sqlmap (DB): N injectable parameters (N parameters tested, M requests)`.
Exit status: 0 nothing injectable; 1 something injectable (each finding printed with its place,
technique, title and payload); 2 the probe could not test everything it meant to (a baseline that
was not 200, a parameter sqlmap did not test, a 401 during a run, sqlmap failing).

Environment:
  EHR_BIN                  server binary (default .build/debug/ehr); never built here
  EHR_SQLMAP_DB            sqlite (default) or postgres
  EHR_SQLMAP_POSTGRES_URL  postgres://… of a server where a database may be created (default: from
                           PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE, as pg_virtualenv exports them)
  EHR_SQLMAP_LEVEL, EHR_SQLMAP_RISK, EHR_SQLMAP_TECHNIQUE   default 3, 2, BEUST
  EHR_SQLMAP_JOBS          sqlmap runs at a time (default 2)
  EHR_SQLMAP_TARGETS       a regular expression: only the targets whose name matches (e.g. 'patients')
  EHR_SQLMAP_RESULT        write the figures as JSON to this file (for scripts/sqlmap-probe)
  EHR_SQLMAP_KEEP=1        keep the work directory (sqlmap logs, HTTP traffic, server log)
"""

import collections
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EHR_BIN = Path(os.environ.get("EHR_BIN") or ROOT / ".build" / "debug" / "ehr")
PASSWORD = "mentalspace-demo"
ROLES = {"admin": "admin@demo.test", "therapist": "dr.smith@demo.test"}
DBMS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
LEVEL = os.environ.get("EHR_SQLMAP_LEVEL", "3")
RISK = os.environ.get("EHR_SQLMAP_RISK", "2")
TECHNIQUE = os.environ.get("EHR_SQLMAP_TECHNIQUE", "BEUST")
READY_TIMEOUT = 60.0
JOBS = max(1, int(os.environ.get("EHR_SQLMAP_JOBS", "2")))
TARGET_TIMEOUT = 600.0
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>])")


def log(message=""):
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, token=None, body=None, timeout=30.0):
    """(status, parsed JSON or None) of one request."""
    headers = {"Accept": "application/json", "User-Agent": "sqlmap-probe"}
    data = None
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def postgres_admin_url():
    url = os.environ.get("EHR_SQLMAP_POSTGRES_URL")
    if url:
        return url
    if not os.environ.get("PGPORT") and not os.environ.get("PGHOST"):
        sys.exit("EHR_SQLMAP_DB=postgres needs EHR_SQLMAP_POSTGRES_URL or PGHOST/PGPORT/...: "
                 "use scripts/sqlmap-probe --db postgres")
    host = os.environ.get("PGHOST", "127.0.0.1")
    if host.startswith("/"):  # a socket directory: pg_virtualenv's cluster listens on localhost too
        host = "127.0.0.1"
    user = urllib.parse.quote(os.environ.get("PGUSER", "postgres"), safe="")
    password = os.environ.get("PGPASSWORD")
    auth = user + (":" + urllib.parse.quote(password, safe="") if password else "")
    return (f"postgres://{auth}@{host}:{os.environ.get('PGPORT', '5432')}/"
            f"{os.environ.get('PGDATABASE', 'postgres')}?sslmode=disable")


def psql(url, sql):
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({sql}): {result.stderr.strip()}")


def with_database(url, name):
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/" + name))


class Server:
    def __init__(self, workdir, database):
        self.workdir, self.database = workdir, database
        self.process = self.base = self.log_path = None
        self.admin_url = self.db_name = None

    def start(self):
        env = {k: v for k, v in os.environ.items() if not (k.startswith("EHR_") or k == "DATABASE_URL")}
        env.update({"EHR_DATA_DIR": str(self.workdir / "data"), "EHR_ENV": "development",
                    "EHR_SEED_DEMO": "true", "EHR_LOG_LEVEL": "warning"})
        if self.database == "postgres":
            self.admin_url = postgres_admin_url()
            self.db_name = "ehr_sqlmap_" + secrets.token_hex(6)
            psql(self.admin_url, f'CREATE DATABASE "{self.db_name}"')
            env["DATABASE_URL"] = with_database(self.admin_url, self.db_name)
        for attempt in range(3):  # a port taken between free_port() and bind(): try another
            port = free_port()
            self.log_path = self.workdir / f"server-{attempt}.log"
            with open(self.log_path, "wb") as out:
                self.process = subprocess.Popen(
                    [str(EHR_BIN), "serve", "--hostname", "127.0.0.1", "--port", str(port)],
                    cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + READY_TIMEOUT
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if http("GET", self.base + "/ready", timeout=2)[0] == 200:
                        return
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.2)
            text = self.log_path.read_text(errors="replace")
            self.stop()
            if "address already in use" not in text.lower():
                break
        raise RuntimeError(f"ehr serve did not become ready; its log:\n{text[-4000:]}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def drop_database(self):
        if self.db_name:
            try:
                psql(self.admin_url, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            except Exception as error:  # never hide the probe's result behind a clean-up problem
                log(f"warning: could not drop {self.db_name}: {error}")


# ---------------------------------------------------------------------------------------------
# Sessions: one sign-in per role, refreshed (never re-issued) when the access token gets old
# ---------------------------------------------------------------------------------------------

class Session:
    def __init__(self, api, role):
        self.api, self.role = api, role
        self.lock = threading.Lock()
        status, body = http("POST", api + "/auth/login",
                            body={"tenant": "demo", "email": ROLES[role], "password": PASSWORD})
        if status != 200:
            raise RuntimeError(f"sign-in as {ROLES[role]} answered {status}: {body}")
        self._take(body)
        status, me = self.get("/auth/me")
        if status != 200:
            raise RuntimeError(f"/auth/me as {role} answered {status}")
        self.user_id = me["id"]

    def _take(self, body):
        self.access, self.refresh_token = body["accessToken"], body["refreshToken"]
        self.expires = time.monotonic() + float(body.get("expiresIn", 900))

    def token(self, needed=600.0):
        """The access token, refreshed first if it would expire within `needed` seconds."""
        with self.lock:
            if self.expires - time.monotonic() < needed:
                status, body = http("POST", self.api + "/auth/refresh", body={"refreshToken": self.refresh_token})
                if status != 200:
                    raise RuntimeError(f"refresh as {self.role} answered {status}: {body}")
                self._take(body)
            return self.access

    def get(self, path, **query):
        url = self.api + path + ("?" + urllib.parse.urlencode(query) if query else "")
        return http("GET", url, token=self.access)

    def items(self, path, **query):
        status, body = self.get(path, **query)
        if status != 200:
            raise RuntimeError(f"GET {path} as {self.role} answered {status}: {body}")
        return body["items"], body.get("nextCursor")


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------

class Target:
    """One sqlmap run: `path` may hold sqlmap's custom injection marker '*' (a path id)."""

    def __init__(self, role, name, path, query=None, params=None, skip=None):
        self.role, self.name, self.path = role, name, path
        self.query = query or {}
        # Parameters sqlmap must test: GET parameters by name, '#1*' for the marker, or headers.
        self.params = params if params is not None else (["#1*"] if "*" in path else list(self.query))
        self.skip = skip  # a reason not to run (no data for a baseline): printed, not counted

    @property
    def label(self):
        return f"{self.role} {self.name}"

    def url(self, api, marker=True):
        path = self.path if marker else self.path.replace("*", "")
        return api.rsplit("/api/v1", 1)[0] + path + ("?" + urllib.parse.urlencode(self.query) if self.query else "")


def iso(instant):
    return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def build_targets(sessions):
    """Targets with base values taken from the API, so that each baseline answers 200 with data."""
    admin, therapist = sessions["admin"], sessions["therapist"]
    now = dt.datetime.now(dt.timezone.utc)
    day = dt.timedelta(days=1)
    targets = []
    for role, s in (("admin", admin), ("therapist", therapist)):
        v1 = "/api/v1"
        patients, _ = s.items("/patients", limit=100)
        p = next(x for x in patients if x.get("email") and x.get("phone"))
        targets.append(Target(role, "patients search", f"{v1}/patients", {
            "email": p["email"], "phone": p["phone"], "lastName": p["lastName"],
            "dateOfBirth": p["dateOfBirth"], "status": p["status"],
            "assignedTherapistId": p["assignedTherapistId"], "limit": "5"}))
        appointments, _ = s.items("/appointments", limit=100)
        a = appointments[0]
        starts, ends = parse_instant(a["startsAt"]), parse_instant(a["endsAt"])
        upcoming = "true" if a["status"] != "cancelled" and ends > now else "false"
        targets.append(Target(role, "appointments filters", f"{v1}/appointments", {
            "from": iso(starts - day), "to": iso(starts + day), "therapistId": a["therapistId"],
            "patientId": a["patientId"], "status": a["status"], "upcoming": upcoming, "limit": "5"}))
        notes, _ = s.items("/notes", limit=100)
        n = notes[0]
        targets.append(Target(role, "notes filters", f"{v1}/notes", {
            "patientId": n["patientId"], "status": n["status"], "type": n["type"], "limit": "5"}))
        providers, _ = s.items("/providers", limit=100)
        targets.append(Target(role, "providers", f"{v1}/providers", {"limit": "5"}))
        # Cursors: the second page of each list (limit=1), which holds at least one item.
        for name, path in (("patients", "/patients"), ("appointments", "/appointments"),
                           ("notes", "/notes"), ("providers", "/providers")):
            _, cursor = s.items(path, limit=1)
            targets.append(Target(role, f"{name} cursor", v1 + path, {"cursor": cursor or "", "limit": "1"},
                                  params=["cursor"],
                                  skip=None if cursor else f"{role} sees a single {name[:-1]}: no second page"))
        # Path ids, with sqlmap's custom injection marker right after a real id.
        targets += [Target(role, "patient id", f"{v1}/patients/{p['id']}*"),
                    Target(role, "appointment id", f"{v1}/appointments/{a['id']}*"),
                    Target(role, "note id", f"{v1}/notes/{n['id']}*"),
                    Target(role, "provider id", f"{v1}/providers/{providers[0]['id']}*")]

    # Admin-only endpoints. A patient read by the admin gives the audit search a match on every filter.
    v1 = "/api/v1"
    patients, _ = admin.items("/patients", limit=100)
    p = patients[0]
    if admin.get(f"/patients/{p['id']}")[0] != 200:
        raise RuntimeError("the admin could not read a patient")
    targets.append(Target("admin", "audit-events filters", f"{v1}/audit-events", {
        "actorId": admin.user_id, "patientId": p["id"], "resourceType": "patient", "action": "patient.read",
        "outcome": "allowed", "from": iso(now - day), "to": iso(now + day), "limit": "5"}))
    # Unfiltered audit pages and the access log grow with every request: only a cursor page is stable.
    _, cursor = admin.items("/audit-events", limit=1)
    targets.append(Target("admin", "audit-events cursor", f"{v1}/audit-events",
                          {"cursor": cursor, "limit": "5"}, params=["cursor"]))
    users, _ = admin.items("/users", limit=100)
    targets.append(Target("admin", "users filters", f"{v1}/users", {"role": "therapist", "limit": "5"}))
    _, cursor = admin.items("/users", limit=1)
    targets.append(Target("admin", "users cursor", f"{v1}/users", {"cursor": cursor, "limit": "1"},
                          params=["cursor"]))
    targets.append(Target("admin", "user id", f"{v1}/users/{users[0]['id']}*"))
    _, cursor = admin.items(f"/patients/{p['id']}/access-log", limit=1)
    targets.append(Target("admin", "access-log", f"{v1}/patients/{p['id']}/access-log",
                          {"cursor": cursor, "limit": "5"}))
    targets.append(Target("admin", "access-log patient id", f"{v1}/patients/{p['id']}*/access-log",
                          {"cursor": cursor, "limit": "5"}))
    # Request headers the server stores (the audit event keeps the user agent): tested once.
    targets.append(Target("admin", "headers", f"{v1}/providers", {"limit": "5"}, params=["User-Agent", "Referer"]))
    return targets


# ---------------------------------------------------------------------------------------------
# sqlmap
# ---------------------------------------------------------------------------------------------

def sqlmap_command():
    found = shutil.which("sqlmap") or str(Path(sys.executable).parent / "sqlmap")
    if not Path(found).exists():
        sys.exit("sqlmap is not installed: pip install -r Tests/Security/requirements.txt")
    return [found]


# "GET parameter 'email' …", "URI parameter '#1*' …", "parameter 'User-Agent' …" (headers have no place).
VERDICT = re.compile(r"parameter '([^']+)' (does not seem to be injectable|is vulnerable)")
APPEARS = re.compile(r"parameter '([^']+)' appears to be '([^']+)' injectable")


def parse_log(text):
    """Verdicts, findings and errors from sqlmap's console output."""
    text = ANSI.sub("", text)
    tested, vulnerable, errors = set(), set(), []
    for name, verdict in VERDICT.findall(text):
        tested.add(name)
        if verdict == "is vulnerable":
            vulnerable.add(name)
    findings = []
    for block in re.findall(r"sqlmap identified the following injection point\(s\)[^\n]*\n---\n(.*?)\n---", text, re.S):
        parameter = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("Parameter:"):
                parameter = line[len("Parameter:"):].strip()
            elif line.startswith("Type:"):
                findings.append({"parameter": parameter, "type": line[5:].strip()})
            elif line.startswith("Title:") and findings:
                findings[-1]["title"] = line[6:].strip()
            elif line.startswith("Payload:") and findings:
                findings[-1]["payload"] = line[8:].strip()
    for match in re.finditer(r"\[(CRITICAL|ERROR)\] (.*)", text):
        message = match.group(2).strip()
        if message.startswith("all tested parameters do not appear to be injectable"):
            continue
        errors.append(message)
    candidates = APPEARS.findall(text)
    return tested, vulnerable, findings, errors, candidates


def parse_traffic(path):
    """(requests sent, Counter of response statuses) from sqlmap's -t traffic file."""
    if not path.exists():
        return 0, collections.Counter()
    requests, statuses = 0, collections.Counter()
    with open(path, errors="replace") as traffic:
        for line in traffic:
            if line.startswith("HTTP request [#"):
                requests += 1
            elif line.startswith("HTTP response [#"):
                match = re.match(r"HTTP response \[#\d+\] \((\d+)", line)
                if match:
                    statuses[int(match.group(1))] += 1
    return requests, statuses


def run_target(target, index, api, session, database, workdir):
    try:
        return sqlmap_target(target, index, api, session, database, workdir)
    except Exception as error:  # one target's trouble (a refresh refused, …) is reported, the rest go on
        return {"target": target.label, "url": target.url(api), "params": target.params, "tested": [],
                "injectable": [], "findings": [], "requests": 0, "statuses": {}, "errors": [str(error)],
                "seconds": 0.0}


def sqlmap_target(target, index, api, session, database, workdir):
    started = time.monotonic()
    result = {"target": target.label, "url": target.url(api), "params": target.params, "tested": [],
              "injectable": [], "findings": [], "requests": 0, "statuses": {}, "errors": [], "seconds": 0.0}
    token = session.token()
    status, body = http("GET", target.url(api, marker=False), token=token)
    if status != 200:
        result["errors"].append(f"baseline answered {status}, not 200")
        return result
    if isinstance(body, dict) and body.get("items") == []:  # boolean-based tests need a page with data
        result["errors"].append("baseline answered an empty page")
        return result
    run_dir = workdir / f"{index:02d}"
    run_dir.mkdir()
    traffic = run_dir / "traffic.txt"
    command = sqlmap_command() + [
        "-u", target.url(api), "--headers", f"Authorization: Bearer {token}",
        "--batch", "--flush-session", "--disable-coloring",
        "--level", LEVEL, "--risk", RISK, "--technique", TECHNIQUE, "--dbms", DBMS[database],
        # Keep testing the other parameters after a finding; the rest are sqlmap's batch defaults.
        "--answers", "keep testing=Y",
        "--timeout", "30", "--retries", "1",
        "--output-dir", str(run_dir / "out"), "-t", str(traffic)]
    if "#1*" not in target.params:
        command += ["-p", ",".join(target.params)]
    env = dict(os.environ, TERM="dumb")
    try:
        completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, timeout=TARGET_TIMEOUT)
        output, code = completed.stdout.decode(errors="replace"), completed.returncode
    except subprocess.TimeoutExpired as error:
        output, code = (error.stdout or b"").decode(errors="replace"), None
        result["errors"].append(f"sqlmap ran longer than {TARGET_TIMEOUT:.0f} s")
    (run_dir / "sqlmap.log").write_text(output)
    tested, vulnerable, findings, errors, candidates = parse_log(output)
    requests, statuses = parse_traffic(traffic)
    result.update(tested=sorted(tested), injectable=sorted(vulnerable), findings=findings,
                  requests=requests, statuses=dict(sorted(statuses.items())), candidates=candidates,
                  seconds=round(time.monotonic() - started, 1))
    result["errors"] += errors
    missing = [p for p in target.params if p not in tested]
    if missing:
        result["errors"].append("not tested: " + ", ".join(missing))
    if statuses.get(401):
        result["errors"].append(f"{statuses[401]} answers were 401: the token stopped working")
    if code not in (0, None) and not result["errors"]:
        result["errors"].append(f"sqlmap exited with {code}")
    return result


def describe(result):
    statuses = ", ".join(f"{code}: {count}" for code, count in result["statuses"].items())
    if result["injectable"] or result["findings"]:
        verdict = "INJECTABLE"
    elif result["errors"]:
        verdict = "ERROR"
    else:
        verdict = "ok"
    line = (f"{verdict:<10} {result['target']:<34} {len(result['tested'])}/{len(result['params'])} "
            f"parameters ({', '.join(result['params'])}), {result['requests']} requests "
            f"[{statuses}], {result['seconds']:.1f} s")
    for finding in result["findings"]:
        line += (f"\n           finding: parameter {finding.get('parameter')}, {finding.get('type')}: "
                 f"{finding.get('title')}; payload: {finding.get('payload')}")
    for error in result["errors"]:
        line += f"\n           error: {error}"
    for name, title in result.get("candidates", []):
        if name not in result["injectable"]:
            line += f"\n           note: sqlmap first saw parameter {name} as '{title}', then discarded it"
    server_errors = sum(count for code, count in result["statuses"].items() if code >= 500)
    if server_errors:
        line += f"\n           warning: {server_errors} answers with a 5xx status (see the traffic file)"
    return line


def main():
    database = os.environ.get("EHR_SQLMAP_DB", "sqlite").strip().lower()
    database = {"pg": "postgres", "postgresql": "postgres"}.get(database, database)
    if database not in DBMS:
        sys.exit(f"EHR_SQLMAP_DB must be sqlite or postgres, not {database!r}")
    if not EHR_BIN.is_file() or not os.access(EHR_BIN, os.X_OK):
        sys.exit(f"{EHR_BIN} is missing: build the server first (swift build --product ehr)")
    workdir = Path(tempfile.mkdtemp(prefix=f"sqlmap-probe-{database}-"))
    only = re.compile(os.environ["EHR_SQLMAP_TARGETS"]) if os.environ.get("EHR_SQLMAP_TARGETS") else None
    started = time.monotonic()
    server = Server(workdir, database)
    results, keep = [], os.environ.get("EHR_SQLMAP_KEEP") == "1"
    try:
        server.start()
        api = server.base + "/api/v1"
        log(f"== sqlmap on {DBMS[database]}: {server.base}, --level {LEVEL} --risk {RISK} "
            f"--technique {TECHNIQUE} --dbms {DBMS[database]}, work directory {workdir}")
        sessions = {role: Session(api, role) for role in ROLES}
        targets = build_targets(sessions)
        chosen = [(i, t) for i, t in enumerate(targets, 1) if not only or only.search(t.label)]
        for _, target in chosen:
            if target.skip:
                log(f"{'skipped':<10} {target.label:<34} {target.skip}")
        # sqlmap spends about as much CPU per request as the server: a few runs at a time.
        with ThreadPoolExecutor(max_workers=JOBS) as pool:
            futures = [pool.submit(run_target, target, index, api, sessions[target.role], database, workdir)
                       for index, target in chosen if not target.skip]
            for future in futures:  # printed in the targets' order
                result = future.result()
                results.append(result)
                log(describe(result))
    except Exception as error:
        log(f"error: {error}")
        results.append({"target": "setup", "params": [], "tested": [], "injectable": [], "findings": [],
                        "requests": 0, "statuses": {}, "errors": [str(error)], "seconds": 0.0})
    finally:
        server.stop()
        server.drop_database()
    injectable = sum(len(r["injectable"]) for r in results)
    tested = sum(len(r["tested"]) for r in results)
    requests = sum(r["requests"] for r in results)
    failed = [r for r in results if r["errors"]]
    seconds = time.monotonic() - started
    summary = (f"sqlmap ({database}): {injectable} injectable parameters ({tested} parameters tested, "
               f"{requests} requests) in {seconds:.0f} s")
    if failed:
        summary += f"; {len(failed)} targets incomplete"
    log(summary)
    if os.environ.get("EHR_SQLMAP_RESULT"):
        Path(os.environ["EHR_SQLMAP_RESULT"]).write_text(json.dumps({
            "database": database, "injectable": injectable, "tested": tested, "requests": requests,
            "incomplete": len(failed), "seconds": round(seconds, 1), "targets": results}, indent=1))
    status = 1 if injectable or any(r["findings"] for r in results) else (2 if failed else 0)
    if status or keep:
        log(f"logs kept in {workdir} (sqlmap.log and traffic.txt per target, server-*.log)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
