"""The notifications page: listing, marking read without JavaScript, the menu's unread count, email choices."""

import re

from coop.extensions import db
from coop.notifications import services
from coop.notifications.services import notify


def _tell(user, count):
    for i in range(count):
        notify([user.id], "vote_result", f"proposal:{i}", {"proposal_id": i, "title": f"Vote {i}", "status": "passed"})
    db.session.flush()


def test_the_page_lists_ones_own_notifications_with_the_unread_count_in_the_menu(pages, make):
    member, other = make.member(), make.member()
    _tell(member, 2)
    _tell(other, 1)
    notify([other.id], "vote_result", "proposal:77", {"proposal_id": 77, "title": "Secret", "status": "passed"})
    html = pages(member).get("/notifications").get_data(as_text=True)
    assert "Vote 0" in html and "Vote 1" in html and "Secret" not in html
    assert "Notifications (2 unread)" in html
    assert html.count('name="id"') == 2


def test_marking_one_read_with_a_plain_form(pages, make):
    member = make.member()
    _tell(member, 2)
    browser = pages(member)
    html = browser.get("/notifications").get_data(as_text=True)
    first_id = re.search(r'name="id" value="(\d+)"', html).group(1)
    response = browser.post("/notifications/read", {"id": first_id})
    assert response.status_code == 303
    assert services.unread_count(member) == 1
    assert "Notifications (1 unread)" in browser.get("/notifications").get_data(as_text=True)
    assert browser.post("/notifications/read", {"all": "1"}).status_code == 303
    assert services.unread_count(member) == 0


def test_nobody_marks_anothers_notification_from_the_page(pages, make):
    member, intruder = make.member(), make.member()
    _tell(member, 1)
    theirs = re.search(r'name="id" value="(\d+)"', pages(member).get("/notifications").get_data(as_text=True)).group(1)
    response = pages(intruder).post("/notifications/read", {"id": theirs})
    assert response.status_code == 422
    assert services.unread_count(member) == 1


def test_the_page_needs_signing_in_and_its_forms_a_csrf_token(pages, make):
    assert pages().get("/notifications").status_code == 302
    member = make.member()
    _tell(member, 1)
    assert pages(member).post("/notifications/read", {"all": "1"}, csrf=False).status_code == 403
    assert services.unread_count(member) == 1


def test_the_page_and_menu_stay_within_the_query_budget(pages, make, count_queries):
    member = make.member()
    _tell(member, 40)
    browser = pages(member)
    with count_queries() as counted:
        response = browser.get("/notifications")
    assert response.status_code == 200
    assert counted.count <= 15, counted.statements


def test_the_page_speaks_the_members_language(pages, make):
    member = make.member()
    member.locale = "fr"
    _tell(member, 1)
    html = pages(member).get("/notifications").get_data(as_text=True)
    assert "Le vote sur « Vote 0 » est clos : proposition adoptée." in html
    assert "Tout marquer comme lu" in html


def test_email_choices_are_saved_from_the_page(pages, make):
    member = make.member()
    browser = pages(member)
    assert 'id="pref-message"' in browser.get("/notifications/preferences").get_data(as_text=True)
    assert browser.post("/notifications/preferences", {"message": "off", "forum_reply": "immediate"}).status_code == 303
    prefs = services.get_preferences(member)
    assert (prefs["message"], prefs["forum_reply"]) == ("off", "immediate")
    assert browser.post("/notifications/preferences", {"message": "loud"}).status_code == 422


def test_the_email_choices_ask_each_person_only_about_what_they_can_be_sent(pages, make):
    def offered(person):
        html = pages(person).get("/notifications/preferences").get_data(as_text=True)
        return set(re.findall(r'id="pref-([a-z_]+)"', html))

    member, coordinator, requester = make.member(), make.coordinator(), make.requester()
    assert "appeal_to_decide" in offered(coordinator)
    assert {"appeal_to_decide", "work_appealed"}.isdisjoint(offered(member))
    assert "work_reviewed" in offered(member) and "vote_opened" in offered(member)
    assert "work_appealed" in offered(requester) and "work_reviewed" not in offered(requester)


def test_a_kind_not_offered_is_left_as_it_was_when_the_form_is_posted(pages, make):
    member = make.member()
    before = services.get_preferences(member)["appeal_to_decide"]
    response = pages(member).post("/notifications/preferences", {"appeal_to_decide": "off", "message": "off"})
    assert response.status_code == 303
    prefs = services.get_preferences(member)
    assert (prefs["appeal_to_decide"], prefs["message"]) == (before, "off")
