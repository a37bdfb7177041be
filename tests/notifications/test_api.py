"""Your notifications over the API: listing by cursor, unread only, marking read, and nobody else's."""

from coop.notifications.models import DEFAULT_MODES, KINDS
from coop.notifications.services import notify

API = "/api/v1"


def _tell(user, count=1, kind="vote_result"):
    for i in range(count):
        notify(
            [user.id], kind, f"proposal:{i + 1}", {"proposal_id": i + 1, "title": f"Vote {i + 1}", "status": "passed"}
        )


def test_a_member_lists_their_notifications_newest_first_by_cursor(make):
    member, other = make.member(), make.member()
    _tell(member, 3)
    _tell(other, 1)
    client = make.client(member)
    first = client.get(f"{API}/me/notifications?limit=2").get_json()
    assert [n["params"]["title"] for n in first["items"]] == ["Vote 3", "Vote 2"]
    assert first["items"][0]["text"] == 'The vote on "Vote 3" is closed: passed.'
    assert first["items"][0]["read_at"] is None
    second = client.get(f"{API}/me/notifications?limit=2&cursor={first['next_cursor']}").get_json()
    assert [n["params"]["title"] for n in second["items"]] == ["Vote 1"]
    assert second["next_cursor"] is None


def test_marking_some_read_leaves_the_others_unread(make):
    member = make.member()
    _tell(member, 3)
    client = make.client(member)
    ids = [n["id"] for n in client.get(f"{API}/me/notifications").get_json()["items"]]
    response = client.post(f"{API}/me/notifications/read", json={"ids": ids[:2]})
    assert response.status_code == 200
    assert response.get_json() == {"marked": 2, "unread": 1}
    unread = client.get(f"{API}/me/notifications?unread=1").get_json()["items"]
    assert [n["id"] for n in unread] == [ids[2]]
    # Marking again changes nothing.
    assert client.post(f"{API}/me/notifications/read", json={"ids": ids[:2]}).get_json() == {"marked": 0, "unread": 1}


def test_marking_all_read(make):
    member = make.member()
    _tell(member, 3)
    client = make.client(member)
    assert client.post(f"{API}/me/notifications/read", json={"all": True}).get_json() == {"marked": 3, "unread": 0}
    assert client.get(f"{API}/me/notifications?unread=1").get_json()["items"] == []
    assert len(client.get(f"{API}/me/notifications").get_json()["items"]) == 3


def test_nobody_reads_or_marks_another_members_notifications(make):
    member, intruder = make.member(), make.member()
    _tell(member, 2)
    theirs = [n["id"] for n in make.client(member).get(f"{API}/me/notifications").get_json()["items"]]
    _tell(intruder, 1)
    intruder_client = make.client(intruder)
    # The list is always one's own.
    listed = intruder_client.get(f"{API}/me/notifications").get_json()["items"]
    assert theirs[0] not in [n["id"] for n in listed]
    # Naming another's ids is refused, all together, and nothing is marked (not even the intruder's own).
    own = listed[0]["id"]
    response = intruder_client.post(f"{API}/me/notifications/read", json={"ids": [own, *theirs]})
    assert response.status_code == 422
    assert "ids" in response.get_json()["errors"]
    assert make.client(member).get(f"{API}/me/notifications?unread=1").get_json()["items"].__len__() == 2
    assert len(intruder_client.get(f"{API}/me/notifications?unread=1").get_json()["items"]) == 1
    # "all" means all of one's own only.
    intruder_client.post(f"{API}/me/notifications/read", json={"all": True})
    assert len(make.client(member).get(f"{API}/me/notifications?unread=1").get_json()["items"]) == 2


def test_signed_out_callers_get_401(make):
    anon = make.client()
    assert anon.get(f"{API}/me/notifications").status_code == 401
    assert anon.post(f"{API}/me/notifications/read", json={"all": True}).status_code == 401
    assert anon.get(f"{API}/me/preferences").status_code == 401
    assert anon.patch(f"{API}/me/preferences", json={"notify": {"message": "off"}}).status_code == 401


def test_marking_needs_ids_or_all(make):
    client = make.client(make.member())
    assert client.post(f"{API}/me/notifications/read", json={}).status_code == 422
    assert client.post(f"{API}/me/notifications/read", json={"ids": ["x"]}).status_code == 422
    assert client.get(f"{API}/me/notifications?cursor=bogus").status_code == 422


def test_preferences_show_defaults_and_change_per_kind(make):
    client = make.client(make.member())
    prefs = client.get(f"{API}/me/preferences").get_json()
    assert prefs["notify"] == {kind: DEFAULT_MODES[kind] for kind in KINDS}
    assert prefs["content_opt_in"] == []
    changed = client.patch(f"{API}/me/preferences", json={"notify": {"message": "off", "vote_opened": "digest"}})
    assert changed.status_code == 200
    assert changed.get_json()["notify"]["message"] == "off"
    assert changed.get_json()["notify"]["vote_opened"] == "digest"
    assert client.get(f"{API}/me/preferences").get_json()["notify"]["vote_result"] == "immediate"


def test_bad_preferences_are_422_naming_the_field(make):
    client = make.client(make.member())
    response = client.patch(f"{API}/me/preferences", json={"notify": {"message": "sometimes"}})
    assert response.status_code == 422
    assert "notify" in response.get_json()["errors"]
    assert client.patch(f"{API}/me/preferences", json={"notify": {"gossip": "off"}}).status_code == 422


def test_requesters_choose_notifications_but_not_content_warnings(make):
    client = make.client(make.requester())
    prefs = client.get(f"{API}/me/preferences").get_json()
    assert "content_opt_in" not in prefs
    assert client.patch(f"{API}/me/preferences", json={"notify": {"message": "digest"}}).status_code == 200
    assert client.patch(f"{API}/me/preferences", json={"content_opt_in": ["violence"]}).status_code == 403
