"""Refusals in the caller's language: French when asked for, the same English as ever otherwise."""

import html

import pytest

from coop.errors import Forbidden, NotFound
from coop.extensions import db
from coop.marketplace.services.common import NOT_YOUR_BATCH
from tests.marketplace.conftest import batch_body

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
UNDERPAYING = {"reward_cents": 10, "est_seconds": 60}


def test_an_underpaying_batch_is_refused_in_french_with_the_field_error_in_french(as_requester):
    response = as_requester.post("/api/v1/batches", json=batch_body(**UNDERPAYING), headers=FRENCH)
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"].startswith("Ce lot enfreint les conditions version 1\u00a0: min_hourly_rate_cents.")
    [error] = body["errors"]["reward_cents"]
    # Numbers and parameter names stay as the API spells them.
    assert error.startswith("Paie 600 centimes de l'heure (reward_cents × 3600 / est_seconds)")
    assert "min_hourly_rate_cents à 1300" in error and "au moins 22 centimes" in error


def test_without_a_language_the_same_refusal_is_in_english(as_requester):
    body = as_requester.post("/api/v1/batches", json=batch_body(**UNDERPAYING)).get_json()
    assert body["message"] == ("This batch breaks terms version 1: min_hourly_rate_cents. See 'errors' for each.")
    assert body["errors"]["reward_cents"] == [
        "Pays 600 cents an hour (reward_cents × 3600 / est_seconds); terms version 1 set "
        "min_hourly_rate_cents to 1300. For 60 seconds of work pay at least 22 cents."
    ]


def test_a_forbidden_action_is_refused_in_french(make):
    owner, other = make.client(make.requester()), make.client(make.requester())
    from tests.marketplace.conftest import fund

    fund(owner.user, 1_000)
    batch = owner.post("/api/v1/batches", json=batch_body()).get_json()
    french = other.get(f"/api/v1/batches/{batch['id']}", headers=FRENCH)
    assert french.status_code == 403
    assert french.get_json()["message"] == "Ce lot appartient à un autre demandeur."
    english = other.get(f"/api/v1/batches/{batch['id']}")
    assert english.get_json()["message"] == NOT_YOUR_BATCH == "This batch belongs to another requester."


def test_a_role_refusal_is_in_french(as_worker):
    response = as_worker.post("/api/v1/batches", json=batch_body(), headers=FRENCH)
    assert response.status_code == 403
    assert response.get_json()["message"] == "Seuls les comptes demandeurs peuvent faire cela."


@pytest.mark.parametrize(
    ("url", "french", "english"),
    [
        ("/api/v1/batches/987654", "Il n'existe pas de batch 987654.", "There is no batch 987654."),
        (
            "/api/v1/no-such-thing",
            "Rien n'existe à cette adresse. Vérifiez l'URL et l'identifiant qu'elle contient.",
            "Nothing exists at this address. Check the URL and the id in it.",
        ),
    ],
)
def test_not_found_is_answered_in_french(as_member, url, french, english):
    response = as_member.get(url, headers=FRENCH)
    assert response.status_code == 404
    assert response.get_json()["message"] == french
    assert as_member.get(url).get_json()["message"] == english


def test_the_members_own_setting_chooses_french_for_the_api(make):
    member = make.member()
    member.locale = "fr"
    db.session.flush()
    response = make.client(member).get("/api/v1/batches/987654")
    assert response.get_json()["message"] == "Il n'existe pas de batch 987654."


def test_languages_do_not_leak_between_requests_of_one_client(as_member):
    # The language is chosen per request, even when requests share an application context.
    assert as_member.get("/api/v1/batches/1", headers=FRENCH).get_json()["message"].startswith("Il n'existe")
    assert as_member.get("/api/v1/batches/1").get_json()["message"] == "There is no batch 1."


def test_outside_a_request_messages_are_english(app_context):
    assert Forbidden(NOT_YOUR_BATCH).message == "This batch belongs to another requester."
    assert NotFound().message == "Nothing exists at this address."


def test_a_refusal_on_a_page_is_shown_in_french(pages, make):
    user = make.worker()
    response = pages(lang="fr").post("/sign-in", {"email": user.email, "password": "not the password at all"})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "E-mail ou mot de passe incorrect." in page
    assert "Se connecter" in page


def test_an_error_page_is_in_french(pages):
    response = pages(lang="fr").get("/no-such-page")
    assert response.status_code == 404
    page = html.unescape(response.get_data(as_text=True))
    assert "Quelque chose s'est arrêté ici (404)" in page and "Retour à l'accueil" in page
    assert "Rien n'existe à cette adresse." in page
