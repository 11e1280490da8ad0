"""Admin pages for platform integration: webhook endpoints, deliveries, integration tokens."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, DeliveryState, User, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.services import accounts, webhooks
from tests.conftest import csrf_token, login

PAGES = ["/admin/webhooks", "/admin/webhooks/deliveries", "/admin/tokens"]
CHENGXI = "91310114MA1GT8QX92"


def _admin(session: Session) -> User:
    return session.scalar(select(User).where(User.username == "admin"))


def _endpoint(session: Session, url: str = "https://platform.example.cn/hook") -> WebhookEndpoint:
    endpoint, _ = webhooks.create_endpoint(
        session,
        _admin(session),
        name="信用中国",
        url=url,
        events=["repair_approved", "records_imported"],
        secret_mode="custom",
        secret="whsec_0123456789abcdefXYZ",
    )
    session.commit()
    return endpoint


@pytest.fixture()
def admin_client(seeded: Session, client: FlaskClient) -> FlaskClient:
    login(client, "admin")
    return client


def test_admin_sees_the_pages_and_the_links(admin_client: FlaskClient) -> None:
    index = admin_client.get("/admin/")
    assert index.status_code == 200
    for path in PAGES:
        assert f'href="{path}"' in index.text
        page = admin_client.get(path)
        assert page.status_code == 200, path
        assert 'name="csrf_token"' in page.text or path.endswith("deliveries")


@pytest.mark.parametrize("username", ["rev_samr", "clerk_window", "owner", "ent_chengxi"])
def test_other_roles_are_forbidden(seeded: Session, client: FlaskClient, username: str) -> None:
    endpoint = _endpoint(seeded)
    token = csrf_token(client)  # the session's token survives the sign-in
    login(client, username)
    for path in [*PAGES, f"/admin/webhooks/{endpoint.id}"]:
        assert client.get(path).status_code == 403, path
    posts = [
        (
            "/admin/webhooks",
            {"name": "x", "url": "https://a.example/", "events": "repair_approved"},
        ),
        (f"/admin/webhooks/{endpoint.id}/active", {"active": "0"}),
        ("/admin/tokens", {"name": "x", "scopes": "read", "expires_in_days": "30"}),
        ("/admin/tokens/1/revoke", {}),
        ("/admin/webhooks/deliveries/abc/retry", {}),
        ("/admin/webhooks/deliveries/abc/discard", {}),
    ]
    for path, data in posts:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert seeded.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == "x")) is None


def test_anonymous_is_sent_to_login(seeded: Session, client: FlaskClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_create_endpoint_shows_the_secret_once(seeded: Session, admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf_token(admin_client, "/admin/webhooks"),
            "name": "地方信用平台",
            "url": "https://credit.example.gov.cn/events?src=cf",
            "events": ["repair_approved", "breach_recorded"],
            "targets": ["local_platform"],
            "secret_mode": "generate",
            "active": "on",
        },
    )
    assert response.status_code == 201, response.text
    shown = re.search(r'id="shown-secret">([^<]+)<', response.text).group(1)
    endpoint = seeded.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == "地方信用平台"))
    assert endpoint.secret == shown and endpoint.targets == ["local_platform"]
    assert endpoint.events == ["repair_approved", "breach_recorded"] and endpoint.active

    again = admin_client.get("/admin/webhooks")
    assert shown not in again.text and webhooks.mask(shown) in again.text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example.cn/x", "只能使用 http 或 https"),
        ("https://user:secret@platform.example.cn/hook", "不能包含用户名或密码"),
        ("not a url", "接收地址"),
    ],
)
def test_bad_url_is_a_422_with_the_field_message(
    seeded: Session, admin_client: FlaskClient, url: str, message: str
) -> None:
    response = admin_client.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf_token(admin_client, "/admin/webhooks"),
            "name": "坏地址",
            "url": url,
            "events": ["repair_approved"],
            "secret_mode": "generate",
        },
    )
    assert response.status_code == 422
    assert message in response.text and 'aria-invalid="true"' in response.text
    assert seeded.scalar(select(WebhookEndpoint)) is None


def test_forms_need_the_csrf_token(seeded: Session, admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/admin/webhooks",
        data={"name": "x", "url": "https://a.example/", "events": "repair_approved"},
    )
    assert response.status_code == 400
    assert admin_client.post("/admin/tokens", data={"name": "x"}).status_code == 400


def test_edit_and_deactivate_an_endpoint(seeded: Session, admin_client: FlaskClient) -> None:
    endpoint = _endpoint(seeded)
    page = admin_client.get(f"/admin/webhooks/{endpoint.id}")
    assert page.status_code == 200 and "信用中国" in page.text
    token = csrf_token(admin_client, f"/admin/webhooks/{endpoint.id}")
    response = admin_client.post(
        f"/admin/webhooks/{endpoint.id}",
        data={
            "csrf_token": token,
            "name": "信用中国（新）",
            "url": "https://platform.example.cn/v2",
            "events": ["document_issued"],
            "secret_mode": "keep",
            "active": "on",
        },
    )
    assert response.status_code == 302
    seeded.refresh(endpoint)
    assert (endpoint.name, endpoint.url, endpoint.events) == (
        "信用中国（新）",
        "https://platform.example.cn/v2",
        ["document_issued"],
    )
    assert endpoint.secret == "whsec_0123456789abcdefXYZ"
    bad = admin_client.post(
        f"/admin/webhooks/{endpoint.id}",
        data={"csrf_token": token, "name": "x", "url": "https://a/", "events": []},
    )
    assert bad.status_code == 422 and "请至少选择一个事件" in bad.text

    off = admin_client.post(
        f"/admin/webhooks/{endpoint.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert off.status_code == 302
    seeded.refresh(endpoint)
    assert endpoint.active is False
    assert admin_client.get("/admin/webhooks/99999").status_code == 404


def test_deliveries_filter_retry_and_discard(seeded: Session, admin_client: FlaskClient) -> None:
    endpoint = _endpoint(seeded)
    webhooks.emit(seeded, "records_imported", CHENGXI, {"created": 3})
    webhooks.emit(seeded, "repair_approved", CHENGXI, {"record_id": 1})
    webhooks.fan_out(seeded, now=utcnow())
    imported, repaired = seeded.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.created_seq)
    ).all()
    imported.state = DeliveryState.DEAD
    seeded.commit()

    page = admin_client.get("/admin/webhooks/deliveries?state=dead")
    assert page.status_code == 200
    assert imported.id in page.text and repaired.id not in page.text
    assert "立即重试" in page.text and "放弃" in page.text
    by_event = admin_client.get("/admin/webhooks/deliveries?event=repair_approved")
    assert repaired.id in by_event.text and imported.id not in by_event.text
    by_endpoint = admin_client.get(f"/admin/webhooks/deliveries?endpoint_id={endpoint.id + 1}")
    assert imported.id not in by_endpoint.text
    junk = admin_client.get("/admin/webhooks/deliveries?state=x&event=y&endpoint_id=z&page=-3")
    assert junk.status_code == 200 and imported.id in junk.text

    token = csrf_token(admin_client, "/admin/webhooks")
    retried = admin_client.post(
        f"/admin/webhooks/deliveries/{imported.id}/retry",
        data={"csrf_token": token, "state": "dead"},
    )
    assert retried.status_code == 302 and "state=dead" in retried.headers["Location"]
    seeded.refresh(imported)
    assert imported.state == DeliveryState.PENDING and imported.attempts == 0

    discarded = admin_client.post(
        f"/admin/webhooks/deliveries/{repaired.id}/discard", data={"csrf_token": token}
    )
    assert discarded.status_code == 302
    seeded.refresh(repaired)
    assert repaired.state == DeliveryState.DISCARDED
    again = admin_client.post(
        f"/admin/webhooks/deliveries/{repaired.id}/discard", data={"csrf_token": token}
    )
    assert again.status_code == 409
    missing = admin_client.post(
        "/admin/webhooks/deliveries/no-such-id/retry", data={"csrf_token": token}
    )
    assert missing.status_code == 404


def test_integration_token_is_shown_once_and_revoked(
    seeded: Session, admin_client: FlaskClient
) -> None:
    token = csrf_token(admin_client, "/admin/tokens")
    bad = admin_client.post(
        "/admin/tokens",
        data={"csrf_token": token, "name": "", "expires_in_days": "30"},
    )
    assert bad.status_code == 422 and "请至少选择一项权限范围" in bad.text

    response = admin_client.post(
        "/admin/tokens",
        data={
            "csrf_token": token,
            "name": "信用中国（上海）",
            "scopes": ["records:import", "read"],
            "expires_in_days": "90",
        },
    )
    assert response.status_code == 201
    raw = re.search(r'id="shown-token">([^<]+)<', response.text).group(1)
    stored = seeded.scalar(select(ApiToken).where(ApiToken.kind == "integration"))
    assert stored.scopes == ["records:import", "read"] and stored.name == "信用中国（上海）"
    assert accounts.user_for_token(seeded, raw) is not None
    listing = admin_client.get("/admin/tokens")
    assert raw not in listing.text and "信用中国（上海）" in listing.text and "有效" in listing.text

    revoked = admin_client.post(f"/admin/tokens/{stored.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    seeded.refresh(stored)
    assert stored.revoked_at is not None and accounts.user_for_token(seeded, raw) is None
    assert "已吊销" in admin_client.get("/admin/tokens").text
    assert (
        admin_client.post("/admin/tokens/99999/revoke", data={"csrf_token": token}).status_code
        == 404
    )
