"""Login is required by default (``LoginRequiredByDefault``); the exemptions are explicit."""
import pytest
from django.test import Client

EXEMPT = {"/accounts/login/": 200, "/healthz": 200, "/api/schema/": 200}


@pytest.mark.django_db
def test_pages_redirect_an_anonymous_visitor_to_the_login(world):
    client = Client()
    for url in ("/", "/ledger/", f"/ledger/{world.inst1.pk}/", "/hazards/", "/inspections/security/",
                "/monitoring/devices/", "/training/staff/", "/assessment/", "/cockpit/", "/audit/",
                "/notifications/", "/orgs/", "/ledger/new/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.django_db
def test_the_exemptions_answer_without_a_login():
    client = Client()
    for url, status in EXEMPT.items():
        assert client.get(url).status_code == status, url
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}).status_code == 302


@pytest.mark.django_db
def test_the_api_refuses_an_anonymous_caller_instead_of_redirecting():
    client = Client()
    assert client.get("/api/v1/institutions/").status_code in (401, 403)
    assert client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}).status_code == 400
