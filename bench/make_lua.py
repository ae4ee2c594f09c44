#!/usr/bin/env python3
"""Signs in every benchmark therapist and writes the wrk scripts with their tokens and patients, and
tokens.json (token, tenant id, therapist id and patients of each therapist) for hey and pgbench.

    make_lua.py FIXTURES BASE_URL OUT_DIR
"""
import base64
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

fixtures_path, base, out = sys.argv[1], sys.argv[2], sys.argv[3]
fixtures = json.load(open(fixtures_path))


def sign_in(therapist):
    body = json.dumps({"tenant": therapist["tenant"], "email": therapist["email"], "password": fixtures["password"]}).encode()
    request = urllib.request.Request(base + "/api/v1/auth/login", data=body, headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=60))["accessToken"]


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# Sign-ins are bcrypt-bound on the server: a few at once use both cores (500 therapists would take minutes one by one).
with ThreadPoolExecutor(max_workers=4) as pool:
    tokens_in_order = list(pool.map(sign_in, fixtures["therapists"]))
pairs = [(token, therapist["patientIDs"][:50]) for token, therapist in zip(tokens_in_order, fixtures["therapists"])]

tokens = ",\n".join('"%s"' % token for token, _ in pairs)
common = "local tokens = {\n%s\n}\nlocal i = 0\n" % tokens
open(out + "/upcoming.lua", "w").write(common + """
request = function()
  i = i + 1
  local token = tokens[(i % #tokens) + 1]
  return wrk.format("GET", "/api/v1/appointments?upcoming=true&limit=20", {["Authorization"] = "Bearer " .. token})
end
""")
patients = ",\n".join("{" + ",".join('"%s"' % p for p in ids) + "}" for _, ids in pairs)
open(out + "/notes.lua", "w").write(common + "local patients = {\n%s\n}\n" % patients + """
request = function()
  i = i + 1
  local t = (i % #tokens) + 1
  local list = patients[t]
  local patient = list[(i % #list) + 1]
  local body = '{"patientId":"' .. patient .. '","type":"soap","sections":{"subjective":"Reports steady mood this week.","plan":"Continue weekly sessions."}}'
  return wrk.format("POST", "/api/v1/notes", {["Authorization"] = "Bearer " .. tokens[t], ["Content-Type"] = "application/json"}, body)
end
""")
# The note body of notes.lua, for hey (which sends one fixed body).
first_patient = pairs[0][1][0]
open(out + "/note-body.json", "w").write(
    '{"patientId":"%s","type":"soap","sections":{"subjective":"Reports steady mood this week.","plan":"Continue weekly sessions."}}'
    % first_patient)
json.dump(
    [{"token": token, "tenantID": claims(token).get("tenant"), "therapistID": claims(token).get("sub"), "patientIDs": ids}
     for token, ids in pairs],
    open(out + "/tokens.json", "w"))
print("signed in %d therapists" % len(pairs))
