"""(a) The sign-in throttle counts across instances: 5 attempts per account (and per client address) per
15 minutes in total, wherever nginx sends them, not 5 per instance."""

from collections import Counter

from conftest import DEMO_PASSWORD, Call, all_replies, figure, race, status_counts

LIMIT = 5


def _outcomes(cluster, replies):
    return [f"{cluster.served_by(r)}:{r.status}" for r in replies]


def _assert_throttled(reply):
    assert reply.status == 429, reply
    assert int(reply.headers.get("Retry-After", "0")) >= 1, f"429 without Retry-After: {reply.headers}"


def test_wrong_passwords_for_one_account_are_limited_in_total_across_instances(cluster):
    email = "jane.smith@demo.test"
    # Each guess from another client address, so only the account's count can stop them.
    replies = [cluster.login(email, f"wrong-password-{i}", client_ip=f"203.0.113.{10 + i}") for i in range(10)]
    statuses = [r.status for r in replies]
    by_instance = Counter((cluster.served_by(r), r.status) for r in replies)
    figure("sign-in throttle, one account, 10 wrong passwords through nginx (sequential)",
           f"401: {statuses.count(401)}, 429: {statuses.count(429)}; per instance {dict(sorted(by_instance.items()))}",
           "sequence: " + " ".join(_outcomes(cluster, replies)))
    # Both instances took guesses before the lock; a per-instance count would have allowed 10 × 401.
    assert {cluster.served_by(r) for r in replies[:LIMIT]} == {"A", "B"}
    assert statuses == [401] * LIMIT + [429] * (10 - LIMIT), _outcomes(cluster, replies)
    for reply in replies[LIMIT:]:
        _assert_throttled(reply)
    # While locked, even the right password is refused, directly on each instance.
    for instance in cluster.instances:
        reply = cluster.login(email, DEMO_PASSWORD, base=instance.base, client_ip="203.0.113.99")
        _assert_throttled(reply)


def test_parallel_wrong_passwords_on_both_instances_pass_the_limit_only_five_times(cluster):
    email = "bob.wilson@demo.test"
    calls = []
    for i in range(12):
        instance = cluster.instances[i % 2]
        calls.append(Call(instance.base, "POST", "/api/v1/auth/login",
                          {"tenant": "demo", "email": email, "password": f"guess-{i}"},
                          headers={"X-Forwarded-For": f"203.0.113.{120 + i}"}))
    replies = all_replies(race(calls))
    counts = status_counts(replies)
    per_instance = Counter((cluster.served_by(r), r.status) for r in replies)
    figure("sign-in throttle, one account, 12 wrong passwords at once, 6 directly on each instance",
           f"401: {counts[401]}, 429: {counts[429]}, other: "
           f"{ {k: v for k, v in counts.items() if k not in (401, 429)} }; per instance {dict(sorted(per_instance.items()))}")
    assert counts == Counter({401: LIMIT, 429: 12 - LIMIT}), counts
    for reply in replies:
        if reply.status == 429:
            _assert_throttled(reply)


def test_one_client_address_is_limited_in_total_across_instances(cluster):
    address = "198.51.100.77"
    # Different (unknown) accounts from one address: only the address's count can stop them.
    replies = [cluster.login(f"nobody-{i}@demo.test", "not-the-password", client_ip=address) for i in range(8)]
    statuses = [r.status for r in replies]
    figure("sign-in throttle, one client address (X-Forwarded-For), 8 unknown accounts through nginx",
           f"401: {statuses.count(401)}, 429: {statuses.count(429)}",
           "sequence: " + " ".join(_outcomes(cluster, replies)))
    assert {cluster.served_by(r) for r in replies[:LIMIT]} == {"A", "B"}
    assert statuses == [401] * LIMIT + [429] * (8 - LIMIT), _outcomes(cluster, replies)
    # The address is refused on both instances even with good credentials; another address is not.
    for instance in cluster.instances:
        _assert_throttled(cluster.login("john.doe@demo.test", base=instance.base, client_ip=address))
    assert cluster.login("john.doe@demo.test", client_ip="198.51.100.78").status == 200
