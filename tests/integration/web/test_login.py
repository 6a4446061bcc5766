"""Logging in and staying logged in: sessions, timeouts, revocation, throttling, TOTP, tokens, CSRF."""

import pyotp
from sqlalchemy import create_engine, text

from ducha.api.deps import LOGIN_COOKIE, SESSION_COOKIE
from ducha.cli import app
from tests.integration.conftest import ok, runner
from tests.integration.web.conftest import PHONES, Web, csrf, hidden, log_in

OFFICE = PHONES["office"]
ADMIN = PHONES["admin"]


def test_a_login_opens_a_session_cookie_that_scripts_cannot_read(web: Web) -> None:
    client = web.client()
    answer = log_in(client, OFFICE, "ducha-demo-2026")
    assert answer.status_code == 303 and answer.headers["location"] == "/board"
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; over https it is Secure (next test)
    assert client.get("/board").status_code == 200
    me = client.get("/api/v1/me").json()
    assert me["role"] == "office" and me["sees_everything"] is True


def test_over_https_the_cookie_is_secure(web: Web) -> None:
    client = web.client()
    client.base_url = "https://testserver"  # type: ignore[assignment]
    answer = log_in(client, OFFICE, "ducha-demo-2026")
    assert "Secure" in answer.headers["set-cookie"]


def test_the_session_token_is_stored_only_as_its_hash(web: Web) -> None:
    client = web.login("office")
    token = client.cookies[SESSION_COOKIE]
    engine = create_engine(web.url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM web_session")).scalars().all()
    engine.dispose()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_a_wrong_password_and_an_unknown_login_answer_alike(web: Web) -> None:
    wrong = log_in(web.client(), OFFICE, "not-the-password")
    unknown = log_in(web.client(), "19999999999", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong login or password" in wrong.text and "wrong login or password" in unknown.text


def test_five_failures_throttle_the_account_with_growing_waits(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        assert log_in(client, OFFICE, "guess-guess-guess").status_code == 401
    refused = log_in(client, OFFICE, "ducha-demo-2026")  # even the right password waits now
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 30
    web.system.advance(seconds=31)
    assert log_in(client, OFFICE, "guess-again-guess").status_code == 401  # the 6th failure
    again = log_in(client, OFFICE, "ducha-demo-2026")
    assert again.status_code == 429 and int(again.headers["retry-after"]) == 60  # twice as long
    web.system.advance(minutes=16)  # the window has passed
    assert log_in(client, OFFICE, "ducha-demo-2026").status_code == 303


def test_failures_from_one_address_throttle_other_accounts_too(web: Web) -> None:
    client = web.client()
    for phone in ("13900000002", "13900000009", "13910000001", "13920000001", "13900000007"):
        assert log_in(client, phone, "wrong-password-1").status_code == 401
    assert log_in(client, ADMIN, "ducha-demo-2026").status_code == 429


def test_every_attempt_is_recorded(web: Web) -> None:
    log_in(web.client(), OFFICE, "nope-nope-nope")
    web.login("office")
    engine = create_engine(web.url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT login, succeeded FROM login_attempt ORDER BY id")).all()
    engine.dispose()
    assert [(login, bool(ok_)) for login, ok_ in rows] == [(OFFICE, False), (OFFICE, True)]


def test_an_idle_session_ends_after_30_minutes(web: Web) -> None:
    client = web.login("office")
    web.system.advance(minutes=29)
    assert client.get("/api/v1/me").status_code == 200  # a request keeps it alive
    web.system.advance(minutes=29)
    assert client.get("/api/v1/me").status_code == 200
    web.system.advance(minutes=31)
    assert client.get("/api/v1/me").status_code == 401
    page = client.get("/board")
    assert page.status_code == 401 and 'name="password"' in page.text  # the login page, to come back


def test_a_busy_session_still_ends_after_12_hours(web: Web) -> None:
    client = web.login("office")
    for _ in range(24):  # 24 × 29 minutes: 11 h 36 min, never idle
        web.system.advance(minutes=29)
        assert client.get("/api/v1/me").status_code == 200
    web.system.advance(minutes=25)  # 12 h 01 min after the login
    assert client.get("/api/v1/me").status_code == 401


def test_logout_and_an_admins_revocation_take_effect_on_the_next_request(web: Web) -> None:
    office = web.login("office")
    token = office.cookies[SESSION_COOKIE]
    answer = office.post("/logout", data={"csrf_token": csrf(office)})
    assert answer.status_code == 303
    office.cookies.set(SESSION_COOKIE, token)  # a copy of the cookie kept from before
    assert office.get("/api/v1/me").status_code == 401  # dead on the server, not only in the browser

    specialist = web.login("specialist")
    assert specialist.get("/api/v1/me").status_code == 200
    ok(web.url, "users", "revoke", PHONES["specialist"], "--reason", "调离", "--as", ADMIN)
    assert specialist.get("/api/v1/me").status_code == 401
    assert log_in(web.client(), PHONES["specialist"], "ducha-demo-2026").status_code == 401


def test_totp_is_asked_after_the_password_and_a_code_is_good_once(web: Web) -> None:
    out = ok(web.url, "users", "totp", OFFICE, "--as", ADMIN)
    secret = out.split("secret (shown once): ")[1].split()[0]
    client = web.client()
    first = log_in(client, OFFICE, "ducha-demo-2026")
    assert first.status_code == 303 and first.headers["location"].startswith("/login/code")
    assert client.get("/api/v1/me").status_code == 401  # not in before the code
    form = client.get(first.headers["location"])
    code = pyotp.TOTP(secret).at(web.system.now())
    wrong = client.post("/login/code", data={"csrf_token": hidden(form.text, "csrf_token"), "code": "000000"})
    assert wrong.status_code == 401
    right = client.post("/login/code", data={"csrf_token": csrf(client), "code": code, "next": "/todo"})
    assert right.status_code == 303 and right.headers["location"] == "/todo"
    assert client.get("/api/v1/me").status_code == 200
    again = web.client()
    log_in(again, OFFICE, "ducha-demo-2026")
    replay = again.post("/login/code", data={"csrf_token": csrf(again), "code": code})
    assert replay.status_code == 401  # the same code, seen over a shoulder, is spent


def test_a_role_that_needs_totp_cannot_log_in_without_one(web: Web) -> None:
    web.context.settings.totp_roles = "office,admin,auditor"
    answer = log_in(web.client(), OFFICE, "ducha-demo-2026")
    assert answer.status_code == 401 and "needs a second factor" in answer.text
    assert log_in(web.client(), PHONES["specialist"], "ducha-demo-2026").status_code == 303


def test_a_hash_made_with_older_parameters_is_redone_at_login(web: Web) -> None:
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192),)).hash("ducha-demo-2026")
    engine = create_engine(web.url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE user_account SET password_hash = :h "
                "WHERE person_id = (SELECT id FROM person WHERE phone = :p)"
            ),
            {"h": weak, "p": OFFICE},
        )
    web.login("office")
    with engine.connect() as connection:
        now_stored = connection.execute(
            text(
                "SELECT password_hash FROM user_account JOIN person ON person.id = person_id WHERE phone = :p"
            ),
            {"p": OFFICE},
        ).scalar_one()
    engine.dispose()
    assert now_stored != weak and "m=65536" in now_stored


def _password(url: str, person: str, password: str) -> tuple[int, str]:
    arguments = ["users", "password", person, "--as", ADMIN, "--password-stdin"]
    result = runner.invoke(app, arguments, input=password + "\n", env={"DUCHA_DATABASE_URL": url})
    return result.exit_code, result.output


def test_a_password_must_not_be_short_or_the_phone(web: Web) -> None:
    code, out = _password(web.url, OFFICE, "short")
    assert code == 2 and "at least 10 characters" in out
    code, out = _password(web.url, OFFICE, f"x{OFFICE}y")
    assert code == 2 and "must not contain the person's phone number" in out
    code, out = _password(web.url, OFFICE, "a-long-enough-one")
    assert code == 0 and "their sessions ended" in out
    assert log_in(web.client(), OFFICE, "a-long-enough-one").status_code == 303


def test_a_bearer_token_acts_in_its_role_and_stops_when_revoked(web: Web) -> None:
    out = ok(web.url, "users", "token", OFFICE, "--as", OFFICE, "--role", "viewer", "--days", "1")
    token_id = out.split()[1]
    secret = out.strip().splitlines()[-1]
    client = web.client()
    bearer = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/v1/me", headers=bearer).json()
    assert me["role"] == "viewer"
    refused = client.post("/api/v1/projects/P001/documents", json={"kind": "design"}, headers=bearer)
    assert refused.status_code == 403  # a viewer token writes nothing, whoever made it
    web.system.advance(days=2)
    assert client.get("/api/v1/me", headers=bearer).status_code == 401  # expired
    web.system.advance(days=-2)
    ok(web.url, "users", "revoke", "--token", token_id, "--as", OFFICE)
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_cross_site_form_post_is_refused(web: Web) -> None:
    client = web.login("specialist")
    data = {"csrf_token": csrf(client), "kind": "design"}
    answer = client.post("/projects/P001/documents", data=data, headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403 and "cross-site" in answer.text


def test_a_post_without_the_token_is_refused(web: Web) -> None:
    client = web.login("specialist")
    answer = client.post(
        "/projects/P001/documents", data={"kind": "design"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert answer.status_code == 403 and "security token" in answer.text
    forged = client.post("/projects/P001/documents", data={"kind": "design", "csrf_token": "0" * 64})
    assert forged.status_code == 403


def test_a_browser_without_fetch_metadata_falls_back_to_the_token(web: Web) -> None:
    client = web.login("specialist")
    answer = client.post("/projects/P001/documents", data={"csrf_token": csrf(client), "kind": "design"})
    assert answer.status_code == 303
    header = client.post(
        "/api/v1/projects/P001/documents", json={"kind": "budget"}, headers={"X-CSRF-Token": csrf(client)}
    )
    assert header.status_code == 200 and header.json()["kind"] == "budget"


def test_the_login_form_itself_needs_its_token(web: Web) -> None:
    client = web.client()
    client.get("/login")
    assert client.cookies.get(LOGIN_COOKIE)
    answer = client.post("/login", data={"login": OFFICE, "password": "ducha-demo-2026"})
    assert answer.status_code == 403
