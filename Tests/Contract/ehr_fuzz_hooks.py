"""Schemathesis hooks for scripts/contract-fuzz (loaded through SCHEMATHESIS_HOOKS=ehr_fuzz_hooks).

Authentication: the script signs in once per role and passes the token pair in the environment
(EHR_FUZZ_ACCESS_TOKEN, EHR_FUZZ_REFRESH_TOKEN, EHR_FUZZ_BASE_URL). Access tokens live at most 15 minutes,
so a long run renews them with the refresh token (never with the password: the sign-in throttle counts
failures per address, and the fuzzer's own bad sign-ins fill that window).

The contract states every rule about a single value (types, lengths, patterns). A few rules depend on
several fields at once or on stored records, which JSON Schema cannot say; the contract's descriptions say
them in words. For those:
  * `map_case` makes generated *valid* requests obey the cross-field rules (an appointment ends 50 minutes
    after it starts, in a real time zone; note sections belong to the note type) and name records that
    exist (an active therapist, a patient the caller may book or write about; ids that links carry from
    earlier answers are such records and stay), so that valid registrations, bookings and notes get through
    and the stateful phase can follow their links;
  * `filter_failure` drops only these findings (schemathesis counts them as "excused by hooks"):
    - "schema-valid request rejected" when every error the server names is one of the rules in
      `_excused_error` (opaque cursors and checkpoints, cross-field rules, records in the wrong state) and
      the request really breaks that rule;
    - "schema-violating request accepted" when the body is valid once trimmed and counted in characters
      as the server does (the contract's Conventions);
    - "deleted resource still available": every DELETE here deactivates, discharges, cancels or voids;
    - "resource not available" for an admin's startTelevisit (admins get 404 there by contract);
    - the response of GET /openapi.yaml, which schemathesis parses instead of taking it as a string.
Every other finding fails the run.
"""

from __future__ import annotations

import json
import os
import threading
import zoneinfo
from datetime import datetime, timedelta, timezone

import jsonschema_rs
import regex
import requests
import schemathesis

# Renew well before the access token's 900 s lifetime ends.
RENEW_AFTER_SECONDS = 600


@schemathesis.auth(refresh_interval=RENEW_AFTER_SECONDS, retry_on=[])
class RefreshingBearer:
    """The role's access token; each later call (every RENEW_AFTER_SECONDS) rotates the refresh token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._access = os.environ["EHR_FUZZ_ACCESS_TOKEN"]
        self._refresh = os.environ["EHR_FUZZ_REFRESH_TOKEN"]
        self._first = True

    def get(self, case, context):
        with self._lock:
            if self._first:
                self._first = False
                return self._access
            answer = requests.post(
                os.environ["EHR_FUZZ_BASE_URL"] + "/api/v1/auth/refresh", json={"refreshToken": self._refresh}, timeout=30
            )
            answer.raise_for_status()
            tokens = answer.json()
            self._access, self._refresh = tokens["accessToken"], tokens["refreshToken"]
            return self._access

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# --- Shared rules -------------------------------------------------------------------------------------

SECTION_KEYS = {
    "soap": ["subjective", "objective", "assessment", "plan"],
    "dap": ["data", "assessment", "plan"],
    "birp": ["behavior", "intervention", "response", "plan"],
    "progress": ["narrative"],
    "intake": ["narrative"],
}
KNOWN_ZONES = ["UTC", "America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo", "Australia/Sydney"]
# What Swift's trimmingCharacters(in: .whitespacesAndNewlines) removes.
# (Foundation on Linux counts U+200B ZERO WIDTH SPACE among them.)
TRIMMED = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000"


def _instant(text):
    """The instant an RFC 3339 date-time names (the forms the contract's pattern admits), or None."""
    if not isinstance(text, str):
        return None
    try:
        value = text.replace("z", "Z").replace("Z", "+00:00")
        head, sep, rest = value.partition(".")
        if sep:  # Python takes at most 6 fraction digits
            digits = regex.match(r"[0-9]*", rest).group()
            value = head + "." + (digits[:6] or "0") + rest[len(digits):]
        if value[16:19] == ":60":  # a leap second: count it as the last second of its minute
            value = value[:17] + "59" + value[19:]
        instant = datetime.fromisoformat(value)
        return instant if instant.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def _rfc3339(instant):
    """UTC with milliseconds and a four-digit year (strftime drops leading zeros of early years)."""
    return (
        f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T{instant.hour:02d}:{instant.minute:02d}:"
        f"{instant.second:02d}.{instant.microsecond // 1000:03d}Z"
    )


def _is_zone(name):
    if name == "UTC":
        return True
    if not isinstance(name, str) or "/" not in name or name.startswith("/") or name.endswith("/"):
        return False
    try:
        zoneinfo.ZoneInfo(name)
        return True
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False


def _is_positive(case):
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    return bool(mode is not None and mode.is_positive)


def _operation(case):
    return f"{case.method.upper()} {case.operation.path}"


# --- Records that exist: ids a valid request can name -----------------------------------------------------


class _Records:
    """The caller, the active therapists and the active patients the caller can see, kept up to date from
    the answers of the run (`after_call`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded = False
        self.me: str | None = None
        self.role: str | None = None
        self.therapists: list[str] = []
        self.patients: dict[str, str] = {}  # patient id -> assigned therapist id

    def load(self) -> None:
        with self.lock:
            if self.loaded:
                return
            self.loaded = True
            base, headers = os.environ["EHR_FUZZ_BASE_URL"], {"Authorization": "Bearer " + os.environ["EHR_FUZZ_ACCESS_TOKEN"]}
            try:
                me = requests.get(base + "/api/v1/auth/me", headers=headers, timeout=30).json()
                self.me, self.role = me.get("id"), me.get("role")
                providers = requests.get(base + "/api/v1/providers?limit=100", headers=headers, timeout=30).json()
                self.therapists = [p["id"] for p in providers.get("items", []) if p.get("active")]
                patients = requests.get(base + "/api/v1/patients?limit=100&status=active", headers=headers, timeout=30).json()
                self.patients = {p["id"]: p["assignedTherapistId"] for p in patients.get("items", [])}
            except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError):
                pass

    def my_patients(self) -> list[str]:
        mine = [p for p, t in self.patients.items() if self.role != "therapist" or t == self.me]
        return sorted(mine)


RECORDS = _Records()


def _pick(options, seed):
    return options[len(repr(seed)) % len(options)] if options else None


@schemathesis.hook
def after_call(context, case, response):
    """Keep RECORDS in step with what the run creates, discharges and deactivates."""
    operation = _operation(case)
    try:
        if operation == "POST /api/v1/patients" and response.status_code == 201:
            patient = json.loads(response.content)["patient"]
            with RECORDS.lock:
                RECORDS.patients[patient["id"]] = patient["assignedTherapistId"]
        elif operation == "DELETE /api/v1/patients/{id}" and response.status_code == 200:
            with RECORDS.lock:
                RECORDS.patients.pop(json.loads(response.content)["id"], None)
        elif operation == "POST /api/v1/providers" and response.status_code == 201:
            with RECORDS.lock:
                RECORDS.therapists.append(json.loads(response.content)["provider"]["id"])
        elif operation == "DELETE /api/v1/providers/{id}" and response.status_code == 204:
            with RECORDS.lock:
                gone = str((case.path_parameters or {}).get("id", "")).lower()
                RECORDS.therapists = [t for t in RECORDS.therapists if t != gone]
    except (ValueError, KeyError, TypeError):
        pass


def _existing_records(case, body):
    operation = _operation(case)
    if operation not in ("POST /api/v1/patients", "POST /api/v1/appointments", "POST /api/v1/notes"):
        return
    RECORDS.load()
    with RECORDS.lock:
        therapists, patients = list(RECORDS.therapists), RECORDS.my_patients()
        assigned = dict(RECORDS.patients)
    if operation == "POST /api/v1/patients":
        if "assignedTherapistId" in body and body["assignedTherapistId"] not in therapists:
            body["assignedTherapistId"] = _pick(therapists, body) or body["assignedTherapistId"]
        return
    if "patientId" in body and body["patientId"] not in assigned:
        body["patientId"] = _pick(patients, body) or body["patientId"]
    if operation == "POST /api/v1/appointments" and "therapistId" in body:
        if RECORDS.role == "therapist":
            body["therapistId"] = RECORDS.me
        elif body["therapistId"] not in therapists:
            own = assigned.get(body.get("patientId"))
            body["therapistId"] = own if own in therapists else (_pick(therapists, body) or body["therapistId"])


# --- map_case: valid requests obey the cross-field rules --------------------------------------------------


@schemathesis.hook
def map_case(context, case):
    if not _is_positive(case) or not isinstance(case.body, dict):
        return case
    operation = _operation(case)
    body = case.body
    _existing_records(case, body)
    if operation in ("POST /api/v1/appointments", "PATCH /api/v1/appointments/{id}"):
        if "timeZone" in body and not _is_zone(body["timeZone"]):
            body["timeZone"] = KNOWN_ZONES[len(str(body["timeZone"])) % len(KNOWN_ZONES)]
        if "startsAt" in body and "endsAt" in body:
            try:
                start = _instant(body["startsAt"]).astimezone(timezone.utc)
                if start.year >= 9999:
                    start = start.replace(year=9998)
            except (AttributeError, ValueError, OverflowError):  # an instant Python cannot hold (year 0 in UTC)
                start = datetime(2030, 1, 7, 15, 0, tzinfo=timezone.utc)
            body["startsAt"] = _rfc3339(start)
            body["endsAt"] = _rfc3339(start + timedelta(minutes=50))
    elif operation in ("POST /api/v1/notes", "PATCH /api/v1/notes/{id}"):
        sections = body.get("sections")
        allowed = SECTION_KEYS.get(body.get("type"))
        if allowed and isinstance(sections, dict) and sections:
            fitted = {}
            for index, value in enumerate(sections.values()):
                fitted.setdefault(allowed[index % len(allowed)], value)
            if all(not str(value).strip(TRIMMED) for value in fitted.values()):
                fitted[next(iter(fitted))] = "Session documented."
            body["sections"] = fitted
    return case


# --- filter_failure: rules the contract can only say in words ---------------------------------------------


def _server_email_valid(value):
    """EmailAddress.isValid (EHRDomain) on characters: one "@", a local part, a domain with a "." neither
    first nor last, no white space."""
    if not isinstance(value, str):
        return False
    clusters = regex.findall(r"\X", value.strip(TRIMMED).lower())
    if clusters.count("@") != 1 or any(c[0] in TRIMMED for c in clusters):
        return False
    at = clusters.index("@")
    local, domain = clusters[:at], clusters[at + 1 :]
    return bool(local) and "." in domain and domain[0] != "." and domain[-1] != "."


def _problem(response):
    try:
        document = json.loads(response.content)
    except (ValueError, TypeError):
        return None
    return document if isinstance(document, dict) else None


def _excused_error(operation, error, case):
    """Whether the server's error is a rule JSON Schema cannot express, and the request breaks it."""
    field, message = error.get("field", ""), error.get("message", "")
    body = case.body if isinstance(case.body, dict) else {}
    query = case.query or {}
    # Opaque tokens: only a cursor the server issued for this list, or a checkpoint of this practice, is valid.
    if field == "cursor" and message == "is not a cursor returned by this list":
        return "cursor" in query
    if field == "checkpoint" and "checkpoint" in query:
        return True
    # Cross-field rules of list filters.
    if field == "to" and message == "must not be before from":
        start, end = _instant(query.get("from")), _instant(query.get("to"))
        try:
            return start is not None and end is not None and end < start
        except (OverflowError, TypeError):
            return False
    if (field, message) in (("dateOfBirth", "is required with lastName"), ("lastName", "is required with dateOfBirth")):
        return ("lastName" in query) != ("dateOfBirth" in query)
    # Appointments: the end is after the start, at most 8 hours later; a zone the time zone database knows.
    if field == "endsAt" and message in ("must be after startsAt", "appointment must last at most 8 hours"):
        start, end = _instant(body.get("startsAt")), _instant(body.get("endsAt"))
        if start is None or end is None:
            return operation.startswith("PATCH")  # the other end is the stored one
        try:
            return end <= start or end - start > timedelta(hours=8)
        except (OverflowError, TypeError):
            return False
    if field == "timeZone" and message.startswith("must be an IANA time zone"):
        return "timeZone" in body and not _is_zone(body["timeZone"])
    # Records named in the body must exist and be in the right state.
    if (field, message) in (
        ("assignedTherapistId", "is not an active therapist of this practice"),
        ("therapistId", "is not an active therapist of this practice"),
        ("patientId", "the patient has been discharged"),
        ("appointmentId", "is not an appointment of this patient"),
    ):
        return True
    # A portal account needs an email.
    if field == "email" and message in ("is required", "must not be blank"):
        return body.get("portalAccess") is True and not str(body.get("email") or "").strip(TRIMMED)
    # Note sections belong to the note's type (the stored type when a PATCH does not change it).
    if field.startswith("sections.") and message.startswith("is not a section of a"):
        allowed = SECTION_KEYS.get(body.get("type"))
        return allowed is None or field[len("sections."):] not in allowed
    if field == "sections" and message == "at least one section must have text":
        sections = body.get("sections")
        return not isinstance(sections, dict) or all(not str(v).strip(TRIMMED) for v in sections.values())
    # Emails: the server looks for "@" and "." among characters (grapheme clusters), so "@" followed by a
    # combining mark or an emoji modifier is no "@" to it; the contract's pattern counts code points.
    if field == "email" and message == "is not a valid email address":
        return not _server_email_valid(body.get("email"))
    # An admin cannot deactivate their own account.
    if field == "active" and message == "you cannot deactivate your own account":
        return body.get("active") is False
    # Lengths: the server counts grapheme clusters, JSON Schema code points (e.g. "e" + U+0301 is one).
    if field == "reason" and message.startswith("must be at least"):
        return len(str(body.get("reason", "")).strip(TRIMMED)) >= 10
    return False


def _as_server_reads(value, key=None):
    """The body as the server measures it: text trimmed, one code point per grapheme cluster (note sections
    and passwords are checked untrimmed)."""
    if isinstance(value, dict):
        return {k: _as_server_reads(v, k if key != "sections" else "sections") for k, v in value.items()}
    if isinstance(value, list):
        return [_as_server_reads(v, key) for v in value]
    if isinstance(value, str) and key not in ("sections", "password"):
        value = "".join(cluster[0] for cluster in regex.findall(r"\X", value.strip(TRIMMED)))
    return value


def _valid_as_server_reads(case):
    """Whether a body the contract refuses is valid once trimmed and counted as the server counts."""
    if not isinstance(case.body, dict):
        return False
    try:
        document = case.operation.schema.raw_schema
        body = document["paths"][case.operation.path][case.method.lower()]["requestBody"]
        schema = dict(body["content"]["application/json"]["schema"])
        schema["components"] = document.get("components", {})
        return jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(_as_server_reads(case.body))
    except (KeyError, TypeError, ValueError):
        return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """False drops the failure: a schema-valid request rejected only for rules listed in `_excused_error`, or
    a schema-violating body accepted because its only violation is the white space around a value or a length
    in code points that is within the limit in characters (see Conventions in the contract)."""
    code = getattr(failure, "code", None)
    if code == "ST201" and 200 <= response.status_code < 300 and _valid_as_server_reads(case):
        return False
    # Every DELETE of this API deactivates, discharges, cancels or voids, and the record stays readable
    # (the contract says so for each): a 200 after a DELETE is the contract, not a use after free.
    if code == "ST301":
        return False
    # Admins may book appointments but not join their televisits: the contract answers them 404 there, so an
    # appointment an admin just created is "not available" to startTelevisit by design.
    if code == "ST302" and getattr(failure, "not_available_with", None) == "POST /api/v1/appointments/{id}/startTelevisit":
        RECORDS.load()
        if RECORDS.role == "admin":
            return False
    # GET /openapi.yaml answers the YAML document, a string (`type: string`); schemathesis parses the YAML and
    # validates the parsed document against that schema instead.
    if code == "ST108" and _operation(case) == "GET /openapi.yaml":
        return False
    # GET /api/v1/live is a WebSocket: an HTTP client cannot upgrade it, and the contract (which cannot describe
    # the upgrade) declares the 426 every plain GET gets. Only that exact answer is excused.
    if code == "ST202" and _operation(case) in ("GET /api/v1/live", "GET /api/v1/televisit") and response.status_code == 426:
        return False
    if code != "ST202" or response.status_code not in (400, 422):
        return True
    problem = _problem(response)
    errors = problem.get("errors") if problem else None
    if not errors:
        return True
    operation = _operation(case)
    return not all(_excused_error(operation, error, case) for error in errors)
