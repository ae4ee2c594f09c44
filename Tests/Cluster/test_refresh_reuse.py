"""(b) Refresh-token rotation across instances: a token used once on one instance and replayed on the
other revokes the whole family, so its successor works on neither instance."""

from conftest import API, Call, all_replies, call, figure, race


def _refresh(base, token):
    return call(base, "POST", f"{API}/auth/refresh", {"refreshToken": token})


def test_replay_on_the_other_instance_revokes_the_family(cluster):
    first = cluster.sign_in("dr.johnson@demo.test")["refreshToken"]
    rotated = _refresh(cluster.a.base, first)
    assert rotated.status == 200, rotated
    successor = rotated.json["refreshToken"]
    assert successor != first

    replay = _refresh(cluster.b.base, first)            # the used token again, on the other instance
    assert replay.status == 401, replay

    after = {instance.name: _refresh(instance.base, successor).status for instance in cluster.instances}
    through_lb = _refresh(cluster.lb, successor).status
    figure("refresh reuse", f"rotate on A: {rotated.status}; replay of the used token on B: {replay.status}; "
                            f"successor afterwards on A: {after['A']}, on B: {after['B']}, through nginx: {through_lb}")
    assert after == {"A": 401, "B": 401}, f"the successor still works after the replay: {after}"
    assert through_lb == 401


def test_replay_on_the_first_instance_after_rotation_on_the_second(cluster):
    first = cluster.sign_in("dr.johnson@demo.test")["refreshToken"]
    rotated = _refresh(cluster.b.base, first)
    assert rotated.status == 200, rotated
    assert _refresh(cluster.a.base, first).status == 401
    successor = rotated.json["refreshToken"]
    assert [_refresh(i.base, successor).status for i in (cluster.b, cluster.a)] == [401, 401]


def test_rotation_carries_on_across_instances_without_reuse(cluster):
    """The control: a family rotated on A, then B, then through nginx stays valid."""
    token = cluster.sign_in("dr.johnson@demo.test")["refreshToken"]
    seen = []
    for base in (cluster.a.base, cluster.b.base, cluster.lb, cluster.lb):
        reply = _refresh(base, token)
        assert reply.status == 200, reply
        seen.append(cluster.served_by(reply))
        me = call(cluster.lb, "GET", f"{API}/auth/me", token=reply.json["accessToken"])
        assert me.status == 200, me
        token = reply.json["refreshToken"]
    assert set(seen) == {"A", "B"}, seen


def test_the_same_token_at_once_on_both_instances(cluster):
    """Two uses racing on the two instances: one wins, the other counts as reuse and the family ends."""
    token = cluster.sign_in("dr.johnson@demo.test")["refreshToken"]
    replies = all_replies(race([Call(i.base, "POST", f"{API}/auth/refresh", {"refreshToken": token})
                                for i in cluster.instances]))
    statuses = sorted(r.status for r in replies)
    assert statuses == [200, 401], replies
    winner = next(r for r in replies if r.status == 200)
    after = [_refresh(i.base, winner.json["refreshToken"]).status for i in cluster.instances]
    figure("refresh race", f"same token at once on A and B: {[f'{cluster.served_by(r)}:{r.status}' for r in replies]}; "
                           f"the winner's successor afterwards on A, B: {after}")
    assert after == [401, 401], after
