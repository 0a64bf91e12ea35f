"""One way in: the lockout covers every login path, and API tokens expire and can be revoked."""
import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from apps.core.models import AuditEntry
from apps.core.testing import PASSWORD, api_client

pytestmark = pytest.mark.django_db

LIMIT = 3


def _fail(client, path, username, n=LIMIT, **extra):
    for _ in range(n):
        client.post(path, {"username": username, "password": "wrong-password"}, **extra)


def _token(client, username, password=PASSWORD, **extra):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, **extra)


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT)
def test_admin_login_locks_after_failures_and_refuses_the_right_password(world):
    client = Client()
    _fail(client, "/admin/login/", "t_admin")
    response = client.post("/admin/login/?next=/admin/", {"username": "t_admin", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert _token(Client(), "t_admin").status_code == 429


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT)
def test_a_lock_from_the_login_page_holds_on_the_admin_login(world):
    _fail(Client(), "/accounts/login/", "t_admin")
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "t_admin", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT)
def test_a_padded_user_name_is_the_same_user_for_the_lock(world):
    _fail(Client(), "/accounts/login/", "t_town2")
    response = _token(Client(), "  t_town2 ")
    assert response.status_code == 429
    assert "次数过多" in response.json()["detail"]
    # and failures under the padded name count for the plain one
    _fail(Client(), "/api/v1/auth/token/", " t_town1  ")
    assert _token(Client(), "t_town1").status_code == 429


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT)
def test_failures_from_a_shared_address_do_not_lock_out_a_correct_password(world, monkeypatch):
    monkeypatch.setattr("apps.orgs.auth.sleep", lambda seconds: None)  # past the address-wide limit
    client = Client(REMOTE_ADDR="10.1.1.1")
    for name in ["t_home1", "t_home2", "t_staff1", "t_unit", "nobody", "t_leader"]:
        _fail(client, "/accounts/login/", name, n=LIMIT + 1)
    response = Client(REMOTE_ADDR="10.1.1.1").post("/accounts/login/", {"username": "t_town1", "password": PASSWORD})
    assert response.status_code == 302
    assert _token(Client(REMOTE_ADDR="10.1.1.1"), "t_town2").status_code == 200


@pytest.fixture
def sleeps(monkeypatch):
    asked = []
    monkeypatch.setattr("apps.orgs.auth.sleep", asked.append)
    return asked


@override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=20)
def test_past_the_address_limit_failures_are_slowed_but_a_right_password_is_not(world, sleeps):
    client = Client(REMOTE_ADDR="10.3.3.3")
    for i in range(20):
        _fail(client, "/accounts/login/", f"guess{i}", n=1)
    assert sleeps == []
    response = Client(REMOTE_ADDR="10.3.3.3").post("/accounts/login/", {"username": "t_town1", "password": PASSWORD})
    assert response.status_code == 302
    assert _token(Client(REMOTE_ADDR="10.3.3.3"), "t_town2").status_code == 200
    assert sleeps == []
    _fail(client, "/accounts/login/", "guess20", n=1)  # the 21st failure
    assert sleeps == [1]
    _fail(client, "/api/v1/auth/token/", "guess21", n=1)
    _fail(client, "/admin/login/", "guess22", n=3)
    assert sleeps == [1, 2, 4, 5, 5]  # growing, capped at LOGIN_ADDRESS_DELAY_MAX_SECONDS
    _fail(Client(REMOTE_ADDR="10.4.4.4"), "/accounts/login/", "guess0", n=1)  # another address: at once
    assert sleeps == [1, 2, 4, 5, 5]
    assert Client(REMOTE_ADDR="10.3.3.3").post(
        "/accounts/login/", {"username": "t_home1", "password": PASSWORD}).status_code == 302
    assert len(sleeps) == 5


@override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=2, AXES_IPWARE_PROXY_COUNT=0,
                   AXES_IPWARE_META_PRECEDENCE_ORDER=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"])
def test_the_address_limit_counts_the_client_behind_the_trusted_proxy(world, sleeps):
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for i in range(3):
        _fail(proxy, "/accounts/login/", f"guess{i}", n=1, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert sleeps == [1]
    _fail(proxy, "/accounts/login/", "guess9", n=1, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert sleeps == [1]


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT, AXES_IPWARE_PROXY_COUNT=0,
                   AXES_IPWARE_META_PRECEDENCE_ORDER=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"])
def test_the_client_address_is_read_through_the_trusted_proxy(world):
    from axes.models import AccessAttempt

    proxy = Client(REMOTE_ADDR="127.0.0.1")
    proxy.post("/accounts/login/", {"username": "t_town1", "password": "wrong-password"},
               HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]
    assert AuditEntry.objects.filter(action="login_failed").latest("id").remote_addr == "203.0.113.7"


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT)
def test_the_lock_and_the_unlock_are_in_the_trail_and_the_administrator_can_unlock(world):
    _fail(Client(), "/accounts/login/", "t_town1", n=LIMIT + 2)
    locks = AuditEntry.objects.filter(action="login_locked")
    assert locks.count() == 1 and locks.get().actor_name == "t_town1"
    assert _token(Client(), "t_town1").status_code == 429

    call_command("axes_reset_username", "t_town1")
    assert AuditEntry.objects.filter(action="login_unlocked", object_repr="t_town1").exists()
    assert _token(Client(), "t_town1").status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT, LOGIN_FAILURE_WINDOW_MINUTES=15)
def test_the_lock_ends_after_the_window(world):
    _fail(Client(), "/accounts/login/", "t_town1")
    assert _token(Client(), "t_town1").status_code == 429
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert _token(Client(), "t_town1").status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT)
def test_the_login_page_says_why_in_chinese(world):
    _fail(Client(), "/accounts/login/", "t_town1")
    response = Client().post("/accounts/login/", {"username": "t_town1", "password": PASSWORD})
    assert response.status_code == 429
    assert "次数过多" in response.content.decode()


# Tokens -----------------------------------------------------------------------------------------

def test_a_token_has_an_expiry_and_stops_working_after_it(world, settings):
    response = _token(Client(), "t_town1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    expiry = datetime.datetime.fromisoformat(body["expiry"])
    assert expiry > timezone.now()
    auth = {"HTTP_AUTHORIZATION": f"Token {body['token']}"}
    assert Client().get("/api/v1/me/", **auth).status_code == 200
    with time_machine.travel(expiry + datetime.timedelta(seconds=1)):
        assert Client().get("/api/v1/me/", **auth).status_code == 401


def test_each_client_gets_its_own_token(world):
    first = _token(Client(), "t_town1").json()["token"]
    second = _token(Client(), "t_town1").json()["token"]
    assert first != second
    for token in (first, second):
        assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_a_password_change_ends_every_token(world):
    tokens = [_token(Client(), "t_town1").json()["token"] for _ in range(2)]
    world.town1.set_password("another-pass-2026")
    world.town1.save()
    for token in tokens:
        assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_the_password_change_page_ends_every_token(world):
    token = _token(Client(), "t_town1").json()["token"]
    client = Client()
    client.force_login(world.town1)
    response = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "Brand-new-pass-77",
                                                   "new_password2": "Brand-new-pass-77"})
    assert response.status_code == 302
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_deactivation_ends_every_token(world):
    token = _token(Client(), "t_town1").json()["token"]
    world.town1.is_active = False
    world.town1.save()
    from knox.models import AuthToken

    assert not AuthToken.objects.filter(user=world.town1).exists()
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_a_login_save_keeps_the_tokens(world):
    token = _token(Client(), "t_town1").json()["token"]
    Client().post("/accounts/login/", {"username": "t_town1", "password": PASSWORD})  # saves last_login
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_a_token_login_is_in_the_trail(world):
    _token(Client(REMOTE_ADDR="10.2.2.2"), "t_town1")
    entry = AuditEntry.objects.filter(action="token_login").get()
    assert entry.actor_id == world.town1.pk and entry.remote_addr == "10.2.2.2"


def test_a_user_lists_and_revokes_his_own_tokens(world):
    from knox.models import AuthToken

    body = _token(Client(), "t_town1").json()
    other = api_client(world.town2)  # town2's own token
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Token {body['token']}"}
    listing = client.get("/api/v1/auth/tokens/", **auth).json()
    assert [t["token_key"] for t in listing] == [body["token"][:15]]
    assert listing[0]["current"] is True and listing[0]["expiry"]
    town2_key = AuthToken.objects.get(user=world.town2).token_key
    assert client.get(f"/api/v1/auth/tokens/{town2_key}/", **auth).status_code == 404
    assert client.delete(f"/api/v1/auth/tokens/{town2_key}/", **auth).status_code == 404
    assert other.get("/api/v1/me/").status_code == 200
    assert client.delete(f"/api/v1/auth/tokens/{body['token'][:15]}/", **auth).status_code == 204
    assert client.get("/api/v1/me/", **auth).status_code == 401
    assert AuditEntry.objects.filter(action="token_revoked", actor=world.town1).exists()


def test_the_token_page_lists_and_revokes(world):
    from knox.models import AuthToken

    _token(Client(), "t_town1")
    api_client(world.town2)
    page = Client()
    page.force_login(world.town1)
    mine = AuthToken.objects.get(user=world.town1).token_key
    theirs = AuthToken.objects.get(user=world.town2).token_key
    body = page.get("/accounts/tokens/").content.decode()
    assert mine in body and theirs not in body
    assert page.post("/accounts/tokens/", {"token_key": theirs}).status_code == 404
    assert page.post("/accounts/tokens/", {"token_key": mine}).status_code == 302
    assert not AuthToken.objects.filter(user=world.town1).exists()
    assert AuthToken.objects.filter(user=world.town2).exists()


@override_settings(LOGIN_FAILURE_LIMIT=LIMIT)
def test_the_administrator_unlocks_in_the_admin_and_it_is_in_the_trail(world):
    from axes.models import AccessAttempt

    _fail(Client(), "/accounts/login/", "t_town1")
    attempt = AccessAttempt.objects.get(username="t_town1")
    admin = Client()
    admin.force_login(world.admin)
    response = admin.post("/admin/axes/accessattempt/", {
        "action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"})
    assert response.status_code == 302
    unlock = AuditEntry.objects.get(action="login_unlocked")
    assert unlock.actor_id == world.admin.pk and unlock.object_repr == "t_town1"
    assert _token(Client(), "t_town1").status_code == 200


def test_live_tokens_per_user_are_limited_and_expired_ones_do_not_count(world, settings):
    from knox.models import AuthToken

    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}  # knox reloads on setting_changed
    assert _token(Client(), "t_town1").status_code == 200
    assert _token(Client(), "t_town1").status_code == 200
    refused = _token(Client(), "t_town1")
    assert refused.status_code == 403 and "撤销" in refused.json()["detail"]
    AuthToken.objects.filter(user=world.town1).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert _token(Client(), "t_town1").status_code == 200


def test_a_token_carries_the_client_name_in_the_list_the_page_and_the_trail(world, django_assert_max_num_queries):
    from knox.models import AuthToken

    phone = Client().post(
        "/api/v1/auth/token/", {"username": "t_town1", "password": PASSWORD, "client": " 值班手机 "}).json()
    Client().post("/api/v1/auth/token/", {"username": "t_town1", "password": PASSWORD, "client": "省平台对接"})
    _token(Client(), "t_town1")  # no name given
    entries = AuditEntry.objects.filter(action="token_login").order_by("id")
    assert [e.after["client"] for e in entries] == ["值班手机", "省平台对接", ""]
    auth = {"HTTP_AUTHORIZATION": f"Token {phone['token']}"}
    with django_assert_max_num_queries(3):  # token lookup, user, the list with its client names
        listing = Client().get("/api/v1/auth/tokens/", **auth).json()
    assert sorted(t["client"] for t in listing) == ["", "值班手机", "省平台对接"]
    assert next(t for t in listing if t["current"])["client"] == "值班手机"
    page = Client()
    page.force_login(world.town1)
    body = page.get("/accounts/tokens/").content.decode()
    assert "值班手机" in body and "省平台对接" in body
    key = next(t["token_key"] for t in listing if t["client"] == "省平台对接")
    page.post("/accounts/tokens/", {"token_key": key})
    assert not AuthToken.objects.filter(token_key=key).exists()
    assert AuditEntry.objects.filter(action="token_revoked").get().after["client"] == "省平台对接"
    from apps.orgs.models import TokenClient

    assert list(TokenClient.objects.values_list("name", flat=True)) == ["值班手机"]


def test_a_client_name_that_is_too_long_is_a_400_and_issues_no_token(world):
    from knox.models import AuthToken

    response = Client().post("/api/v1/auth/token/",
                             {"username": "t_town1", "password": PASSWORD, "client": "x" * 61})
    assert response.status_code == 400 and "client" in response.json()
    assert not AuthToken.objects.exists()
