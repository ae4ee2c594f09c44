"""(d) After a mixed concurrent load through nginx (reads and writes of two practices from several threads,
served by both instances), each practice's audit chain verifies: through the API on either instance and
with `ehr audit verify`; and every request of the load left exactly one audit event in its own chain."""

import threading
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timedelta, timezone

from conftest import API, call, figure

ITERATIONS = 6
EXPECTED = {"POST": {201, 200}, "PATCH": {200}, "GET": {200}}


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Worker(threading.Thread):
    """Runs one user's script of requests through nginx; records (practice, route, status, instance, id)."""

    def __init__(self, cluster, practice, name, token, start_barrier):
        super().__init__(name=f"{practice.slug}-{name}")
        self.cluster, self.practice, self.token, self.barrier = cluster, practice, token, start_barrier
        self.label = f"load-{practice.slug}-{name}"
        self.records = []   # (route, method, status, instance, request id)
        self.failures = []
        self.error = None
        self.count = 0

    def request(self, method, path, route, body=None, expect=None):
        self.count += 1
        request_id = f"{self.label}-{self.count}"
        reply = call(self.cluster.lb, method, path, body, token=self.token, headers={"X-Request-Id": request_id})
        self.records.append((route, method, reply.status, self.cluster.served_by(reply), request_id))
        if reply.status not in (expect or EXPECTED[method]):
            self.failures.append(reply)
        return reply

    def run(self):
        try:
            self.barrier.wait(timeout=60)
            self.script()
        except Exception as error:  # reported by the test
            self.error = error


class TherapistWorker(Worker):
    """Books, documents and signs: appointment, note draft, edit, sign, and the reads in between."""

    def __init__(self, cluster, practice, email, day, start_barrier):
        name = email.split("@")[0].replace(".", "_")   # a request id is letters, digits, - and _ only
        super().__init__(cluster, practice, name, practice.therapist_token(cluster, email), start_barrier)
        self.therapist = practice.therapists[email]
        self.patients = practice.patients[self.therapist]
        self.day = (datetime.now(timezone.utc) + timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)

    def script(self):
        for i in range(ITERATIONS):
            patient = self.patients[i % len(self.patients)]
            starts = self.day + timedelta(hours=8 + i)
            appointment = self.request("POST", f"{API}/appointments", "POST /appointments", {
                "patientId": patient, "therapistId": self.therapist, "startsAt": _iso(starts),
                "endsAt": _iso(starts + timedelta(minutes=50)), "timeZone": "America/Chicago",
                "kind": "televisit", "reason": "load session"}, expect={201})
            self.request("GET", f"{API}/appointments?upcoming=true&limit=20", "GET /appointments")
            body = {"patientId": patient, "type": "soap", "sections": {"subjective": f"Session {i}: mood steady."}}
            if appointment.status == 201:
                body["appointmentId"] = appointment.json["id"]
            note = self.request("POST", f"{API}/notes", "POST /notes", body, expect={201})
            if note.status != 201:
                continue
            note_id = note.json["id"]
            self.request("PATCH", f"{API}/notes/{note_id}", "PATCH /notes/{id}", {"sections": {
                "subjective": f"Session {i}: mood steady.", "assessment": "Stable.", "plan": "Continue weekly."}})
            self.request("POST", f"{API}/notes/{note_id}/sign", "POST /notes/{id}/sign", expect={200})
            self.request("GET", f"{API}/notes/{note_id}", "GET /notes/{id}")
            self.request("GET", f"{API}/notes?patientId={patient}&limit=20", "GET /notes")
            self.request("GET", f"{API}/patients/{patient}", "GET /patients/{id}")


class AdminWorker(Worker):
    """Registers patients and reads the practice's lists, searches and audit log."""

    def __init__(self, cluster, practice, start_barrier):
        super().__init__(cluster, practice, "admin", practice.admin_token(cluster), start_barrier)
        self.therapists = sorted(practice.therapists.values())

    def script(self):
        for i in range(ITERATIONS):
            last_name = f"Load{i}{self.practice.slug.capitalize()}"
            created = self.request("POST", f"{API}/patients", "POST /patients", {
                "firstName": "Casey", "lastName": last_name, "dateOfBirth": "1988-06-15",
                "email": f"casey.{i}@{self.practice.slug}.test",
                "assignedTherapistId": self.therapists[i % len(self.therapists)]}, expect={201})
            if created.status == 201:
                self.request("GET", f"{API}/patients/{created.json['patient']['id']}", "GET /patients/{id}")
            self.request("GET", f"{API}/patients?limit=50", "GET /patients")
            self.request("GET", f"{API}/patients?lastName={last_name}&dateOfBirth=1988-06-15", "GET /patients?lastName")
            self.request("GET", f"{API}/appointments?limit=50", "GET /appointments")
            self.request("GET", f"{API}/notes?limit=50", "GET /notes")
            self.request("GET", f"{API}/audit-events?limit=20", "GET /audit-events")


def _verify(base, token):
    reply = call(base, "GET", f"{API}/audit/verify", token=token)
    assert reply.status == 200, reply
    return reply.json


def _audit_request_ids(cluster, token, since):
    """Request ids of the practice's audit events since `since` (every page), as a Counter."""
    ids, cursor = Counter(), None
    while True:
        query = {"from": _iso(since), "limit": "100"}
        if cursor:
            query["cursor"] = cursor
        reply = call(cluster.lb, "GET", f"{API}/audit-events?{urllib.parse.urlencode(query)}", token=token)
        assert reply.status == 200, reply
        ids.update(event["requestId"] for event in reply.json["items"])
        cursor = reply.json.get("nextCursor")
        if not cursor:
            return ids


def test_audit_chains_verify_after_mixed_concurrent_load(cluster, demo, acme):
    practices = (demo, acme)
    admins = {p.slug: p.admin_token(cluster) for p in practices}
    before = {p.slug: _verify(cluster.lb, admins[p.slug]) for p in practices}
    for slug, result in before.items():
        assert result["intact"], f"{slug}: chain broken before the load: {result}"
    since = datetime.now(timezone.utc) - timedelta(seconds=5)

    workers = []
    barrier = threading.Barrier(sum(1 + len(p.therapists) for p in practices))
    for index, practice in enumerate(practices):
        workers.append(AdminWorker(cluster, practice, barrier))
        for offset, email in enumerate(sorted(practice.therapists)):
            workers.append(TherapistWorker(cluster, practice, email, 300 + 10 * index + offset, barrier))
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    elapsed = time.monotonic() - started

    records = [(w.practice.slug, *record) for w in workers for record in w.records]
    statuses = Counter(r[3] for r in records)
    instances = Counter(r[4] for r in records)
    writes = sum(1 for r in records if r[2] in ("POST", "PATCH"))
    failures = [f for w in workers for f in w.failures]
    errors = [f"{w.name}: {w.error!r}" for w in workers if w.error]
    lines = [f"{len(records)} requests ({writes} writes, {len(records) - writes} reads) from {len(workers)} threads "
             f"in {elapsed:.1f} s; statuses {dict(sorted(statuses.items()))}; served by {dict(sorted(instances.items()))}"]
    for slug in (p.slug for p in practices):
        per_route = Counter(r[1] for r in records if r[0] == slug)
        lines.append(f"{slug}: " + ", ".join(f"{route} ×{n}" for route, n in sorted(per_route.items())))
    assert not errors, errors
    assert not failures, f"{len(failures)} unexpected answers, e.g. {failures[:5]}"
    assert len(records) >= 200
    # Both instances carried the load (strict round-robin: about half each).
    assert min(instances.get("A", 0), instances.get("B", 0)) >= len(records) // 3, instances

    # Every request of the load left exactly one audit event, in its own practice's chain only.
    for practice in practices:
        audited = _audit_request_ids(cluster, admins[practice.slug], since)
        mine = [r[5] for r in records if r[0] == practice.slug]
        theirs = [r[5] for r in records if r[0] != practice.slug]
        missing = [rid for rid in mine if audited[rid] == 0]
        doubled = [rid for rid in mine if audited[rid] > 1]
        leaked = [rid for rid in theirs if audited[rid]]
        assert not missing, f"{practice.slug}: {len(missing)} requests without an audit event, e.g. {missing[:5]}"
        assert not doubled, f"{practice.slug}: requests with several audit events: {doubled[:5]}"
        assert not leaked, f"{practice.slug}: events of the other practice's requests in this chain: {leaked[:5]}"

    # The chains verify, read by either instance and through nginx.
    for practice in practices:
        token = admins[practice.slug]
        results = {name: _verify(base, token) for name, base in
                   (("nginx", cluster.lb), ("A", cluster.a.base), ("B", cluster.b.base))}
        for name, result in results.items():
            assert result["intact"] and not result["headMismatch"] and result.get("firstBreakReason") is None, \
                f"{practice.slug} via {name}: {result}"
            assert result["verifiedCount"] == result["eventCount"], f"{practice.slug} via {name}: {result}"
        load_requests = sum(1 for r in records if r[0] == practice.slug)
        grown = results["B"]["eventCount"] - before[practice.slug]["eventCount"]
        assert grown >= load_requests, f"{practice.slug}: chain grew by {grown} events for {load_requests} requests"
        lines.append(f"audit chain {practice.slug}: intact via nginx, A and B; {results['B']['verifiedCount']} events "
                     f"verified (was {before[practice.slug]['eventCount']} before the load, +{grown}; "
                     f"{load_requests} load requests each found once by request id)")

    # And offline, by the command line over the same database.
    cli = cluster.ehr("audit", "verify")
    lines += [f"`ehr audit verify` (exit {cli.returncode}): {line}" for line in cli.stdout.strip().splitlines()]
    figure("mixed load through nginx, then audit verification", *lines)
    assert cli.returncode == 0, f"ehr audit verify failed:\n{cli.stdout}\n{cli.stderr}"
    for practice in practices:
        assert practice.slug in cli.stdout, f"`ehr audit verify` did not report {practice.slug}:\n{cli.stdout}"
