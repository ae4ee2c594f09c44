"""The fixture itself: nginx really alternates between the two instances, the instances share the
signing key and the database, and the client address nginx forwards is the one the server records."""

import re
import secrets
import urllib.parse

from conftest import API, DEMO_PASSWORD, call, figure


def test_requests_alternate_between_both_instances(cluster):
    tag = secrets.token_hex(4)
    ids = [f"topology-{tag}-{i}" for i in range(12)]
    replies = [call(cluster.lb, "GET", "/health", headers={"X-Request-Id": rid}) for rid in ids]
    assert [r.status for r in replies] == [200] * len(ids)
    served = [cluster.served_by(r) for r in replies]
    # Round-robin without stickiness: every request goes to the other instance than the one before.
    assert set(served) == {"A", "B"}, served
    assert all(x != y for x, y in zip(served, served[1:])), f"requests did not alternate: {served}"
    # The instances' own request logs agree with nginx: each logged exactly the requests sent to it.
    logs = {instance.name: instance.logged_request_ids() for instance in cluster.instances}
    for rid, name in zip(ids, served):
        other = "B" if name == "A" else "A"
        assert rid in logs[name], f"{rid} (served by {name} per nginx) is not in {name}'s request log"
        assert rid not in logs[other], f"{rid} is in {other}'s request log too"
    figure("topology", f"12 requests through nginx served by: {''.join(served)}")


def test_a_token_from_one_instance_works_on_the_other(cluster):
    reply = cluster.login("dr.smith@demo.test", base=cluster.a.base)
    assert reply.status == 200, reply
    me = call(cluster.b.base, "GET", f"{API}/auth/me", token=reply.json["accessToken"])
    assert me.status == 200, me
    assert me.json["email"] == "dr.smith@demo.test"
    jwks = [call(instance.base, "GET", "/.well-known/jwks.json").json for instance in cluster.instances]
    assert jwks[0] == jwks[1], "the instances publish different signing keys"


def test_the_client_address_behind_nginx_is_recorded(cluster, demo):
    rid = f"xff-{secrets.token_hex(4)}"
    reply = cluster.login(demo.admin_email, client_ip="192.0.2.44", base=None)
    assert reply.status == 200, reply
    token = reply.json["accessToken"]
    # A read through nginx with a known request id and a client address of its own.
    me = call(cluster.lb, "GET", f"{API}/auth/me", token=token,
              headers={"X-Request-Id": rid, "X-Forwarded-For": "192.0.2.45"})
    assert me.status == 200, me
    events = call(cluster.lb, "GET", f"{API}/audit-events?limit=100", token=token)
    assert events.status == 200, events
    mine = [e for e in events.json["items"] if e["requestId"] == rid]
    assert len(mine) == 1, f"expected one audit event with request id {rid}: {mine}"
    assert mine[0]["clientIp"] == "192.0.2.45", mine[0]
    logins = [e for e in events.json["items"] if e["action"] == "auth.login" and e["clientIp"] == "192.0.2.44"]
    assert logins, "the sign-in's audit event does not carry the forwarded client address"


def _cookies(reply):
    jar = {}
    for header in reply.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def _csrf(html):
    match = re.search(r'name="_csrf"\s+value="([^"]+)"|value="([^"]+)"\s+name="_csrf"', html)
    assert match, "no _csrf field on the page"
    return match.group(1) or match.group(2)


def _form(cluster, path, fields, cookies):
    return call(cluster.lb, "POST", path, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}, raw=urllib.parse.urlencode(fields).encode())


def test_a_web_session_is_good_on_both_instances(cluster):
    page = call(cluster.lb, "GET", "/app/login", headers={"Accept": "text/html"})
    assert page.status == 200, page
    cookies = _cookies(page)
    signed_in = _form(cluster, "/app/login", {"tenant": "demo", "email": "dr.smith@demo.test",
                                              "password": DEMO_PASSWORD, "_csrf": _csrf(page.text)}, cookies)
    assert signed_in.status in (302, 303), signed_in
    assert cluster.served_by(signed_in) != cluster.served_by(page), "sign-in page and post on one instance"
    cookies.update(_cookies(signed_in))
    assert "__Host-ehr_session" in cookies, signed_in.headers
    header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Accept": "text/html"}
    pages = [call(cluster.lb, "GET", "/app/schedule", headers=header) for _ in range(4)]
    assert [p.status for p in pages] == [200] * 4, pages
    assert {cluster.served_by(p) for p in pages} == {"A", "B"}
    # Signing out on one instance ends the session on both.
    out = _form(cluster, "/app/logout", {"_csrf": _csrf(pages[-1].text)}, cookies)
    assert out.status in (302, 303), out
    after = [call(instance.base, "GET", "/app/schedule", headers=header) for instance in cluster.instances]
    assert all(r.status in (302, 303) and r.headers.get("Location", "").endswith("/app/login") for r in after), after
