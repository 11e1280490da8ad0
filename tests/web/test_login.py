"""Sign-in, CSRF, rate limiting and role home pages."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import csrf_token, login


def test_login_page_is_chinese_by_default(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.text and 'lang="zh-CN"' in page.text


def test_english_locale_is_available(client: FlaskClient) -> None:
    page = client.get("/login?lang=en")
    assert 'lang="en"' in page.text
    assert "Sign in" in page.text


def test_enterprise_signs_in_and_sees_repairable_records(client: FlaskClient, seeded) -> None:
    login(client, "ent_chengxi")
    page = client.get("/records")
    assert page.status_code == 200
    assert "嘉市监处罚" in page.text  # its own SAMR penalty
    assert "现在可申请" in page.text  # at least one record repairable now
    assert "尚未届满最短公示期" in page.text  # the serious one is not yet
    assert "青税稽罚" not in page.text  # another subject's record


def test_wrong_password_is_refused_without_revealing_which_part(
    client: FlaskClient, seeded
) -> None:
    response = client.post(
        "/login",
        data={
            "username": "ent_chengxi",
            "password": "wrong-pass1",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text


def test_repeated_wrong_passwords_are_rate_limited(client: FlaskClient, seeded) -> None:
    token = csrf_token(client)
    statuses = [
        client.post(
            "/login", data={"username": "rev_samr", "password": f"bad-{i}", "csrf_token": token}
        ).status_code
        for i in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # Even the right password is refused while the limit holds.
    blocked = client.post(
        "/login", data={"username": "rev_samr", "password": "demo12345", "csrf_token": token}
    )
    assert blocked.status_code == 429
    assert "稍等" in blocked.text


def test_form_without_csrf_token_is_refused(client: FlaskClient, seeded) -> None:
    response = client.post("/login", data={"username": "ent_chengxi", "password": "demo12345"})
    assert response.status_code == 400
    assert "CSRF" in response.text
    assert client.get("/records").status_code == 302  # still signed out


def test_logout_requires_post_with_csrf(client: FlaskClient, seeded) -> None:
    login(client, "ent_chengxi")
    assert client.post("/logout").status_code == 400
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/records")})
    assert response.status_code == 302
    assert client.get("/records").status_code == 302


def test_pages_need_sign_in(client: FlaskClient) -> None:
    response = client.get("/records")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_approver_cannot_open_enterprise_pages(client: FlaskClient, seeded) -> None:
    login(client, "rev_samr")
    assert client.get("/records").status_code == 403
    home = client.get("/")
    assert home.status_code == 200 and "区市场监管局" in home.text
    assert "食品经营许可" in home.text  # its department's matter catalogue


def test_admin_home_shows_audit_chain_state(client: FlaskClient, seeded) -> None:
    login(client, "admin")
    page = client.get("/", follow_redirects=True)
    assert "审计链完整" in page.text
    assert "auth.login" in page.text


def test_only_admins_reach_admin_pages(client: FlaskClient, seeded) -> None:
    login(client, "owner")
    assert client.get("/admin/").status_code == 403


def test_unknown_page_gives_helpful_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "未找到" in response.text


def test_healthz_reports_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "db": "ok"}
