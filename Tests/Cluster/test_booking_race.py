"""(c) Concurrent bookings of one therapist's slot, sent at once directly to both instances: exactly one
succeeds (201) and every other gets 409 naming it, whichever instance handled it."""

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from conftest import API, Call, call, figure, race, status_counts

REQUESTS = 20


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("shape", ["same-slot", "overlapping-slots"])
def test_only_one_of_concurrent_bookings_of_a_slot_wins(cluster, demo, shape):
    smith = demo.therapists["dr.smith@demo.test"]
    patients = demo.patients[smith]
    token = demo.therapist_token(cluster, "dr.smith@demo.test")
    day = 200 if shape == "same-slot" else 201
    start = (datetime.now(timezone.utc) + timedelta(days=day)).replace(hour=15, minute=0, second=0, microsecond=0)
    calls = []
    for i in range(REQUESTS):
        # same-slot: every request 15:00-15:50; overlapping-slots: starts 2 minutes apart, so each pair overlaps.
        begins = start if shape == "same-slot" else start + timedelta(minutes=2 * i)
        body = {"patientId": patients[i % len(patients)], "therapistId": smith, "startsAt": _iso(begins),
                "endsAt": _iso(begins + timedelta(minutes=50)), "timeZone": "America/New_York",
                "kind": "televisit" if i % 2 else "in_person", "reason": f"race {shape} {i}"}
        calls.append(Call(cluster.instances[i % 2].base, "POST", f"{API}/appointments", body, token=token))
    replies = race(calls)
    counts = status_counts(replies)
    per_instance = Counter((cluster.served_by(r), r.status) for r in replies if not isinstance(r, Exception))
    figure(f"booking race ({shape}), {REQUESTS} concurrent POST /appointments, alternately on A and B",
           f"201: {counts[201]}, 409: {counts[409]}, other: {sorted((str(k), v) for k, v in counts.items() if k not in (201, 409))}",
           f"per instance: {dict(sorted(per_instance.items()))}")
    others = [r for r in replies if isinstance(r, Exception) or r.status not in (201, 409)]
    assert not others, f"answers other than 201/409: {others[:5]}"
    assert counts[201] == 1, f"{counts[201]} bookings of one slot succeeded: {[r for r in replies if r.status == 201]}"
    assert counts[409] == REQUESTS - 1
    winner = next(r for r in replies if r.status == 201).json["id"]
    for reply in replies:
        if reply.status == 409:
            assert reply.json.get("conflictingAppointmentId") == winner, reply
    # Through nginx, the schedule of that window holds just the winner.
    listed = call(cluster.lb, "GET",
                  f"{API}/appointments?therapistId={smith}&from={_iso(start - timedelta(hours=1))}"
                  f"&to={_iso(start + timedelta(hours=2))}&limit=100", token=token)
    assert listed.status == 200, listed
    live = [a["id"] for a in listed.json["items"] if a["status"] != "cancelled"]
    assert live == [winner], live
