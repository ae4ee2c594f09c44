#!/usr/bin/env python3
"""Signs in every benchmark therapist and writes the wrk scripts with their tokens and patients."""
import json
import sys
import urllib.request

fixtures_path, base, out = sys.argv[1], sys.argv[2], sys.argv[3]
fixtures = json.load(open(fixtures_path))
pairs = []
for therapist in fixtures["therapists"]:
    body = json.dumps({"tenant": therapist["tenant"], "email": therapist["email"], "password": fixtures["password"]}).encode()
    request = urllib.request.Request(base + "/api/v1/auth/login", data=body, headers={"content-type": "application/json"})
    token = json.load(urllib.request.urlopen(request))["accessToken"]
    pairs.append((token, therapist["patientIDs"][:50]))

tokens = ",\n".join('"%s"' % token for token, _ in pairs)
common = "local tokens = {\n%s\n}\nlocal i = 0\n" % tokens
open(out + "/upcoming.lua", "w").write(common + """
request = function()
  i = i + 1
  local token = tokens[(i % #tokens) + 1]
  return wrk.format("GET", "/api/v1/appointments?upcoming=true", {["Authorization"] = "Bearer " .. token})
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
print("signed in %d therapists" % len(pairs))
