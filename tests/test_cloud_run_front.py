"""The add-in's call through a stand-in for Cloud Run's front end (tests/cloud_run.py): the invoker check
consumes X-Serverless-Authorization, and the function still verifies the untouched Authorization."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.cloud_run import SIGNATURE_REMOVED, CloudRunFront
from tests.rowgen import make_rows, sheet_of
from tests.stack import CAMPAIGN, Stack, local_stack

SERVICE_URL = "https://callmarker-upload-7k2xq4-zf.a.run.app"


def front(stack: Stack, **options: Any) -> Callable[[Any], CloudRunFront]:
    """Cloud Run as deploy/function.sh sets it up: the add-in's client id a custom audience."""
    made: list[CloudRunFront] = []

    def wrap(app: Any) -> CloudRunFront:
        settings = {
            "custom_audiences": [stack.issuer.audience],
            "invokers": ["domain:example.com"],
            **options,
        }
        made.append(CloudRunFront(app, issuer=stack.issuer, service_url=SERVICE_URL, **settings))
        return made[-1]

    wrap.made = made  # type: ignore[attr-defined]
    return wrap


@pytest.fixture
def stack() -> Iterator[Stack]:
    with local_stack() as s:
        yield s


def job(stack: Stack, rows: int = 120) -> dict[str, Any]:
    _, generated, _ = make_rows(rows, invalid_share=0.0, seed=17)
    spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(generated))
    return {
        "spreadsheet_id": spreadsheet_id,
        "sheet_id": gid,
        "rows": [[2, rows + 1]],
        "options": {"campaign": CAMPAIGN},
    }


def test_with_both_headers_the_job_goes_through_cloud_run_and_succeeds(stack: Stack) -> None:
    wrap = front(stack)
    stack.start_function(front=wrap)
    body = job(stack)

    answers = stack.run_job(body)

    assert answers[-1]["counts"]["uploaded"] == 120
    assert len(stack.callmarker_app.backend.state()["customers"]) == 120
    (cloud_run,) = wrap.made  # type: ignore[attr-defined]
    assert cloud_run.seen == [(200, "X-Serverless-Authorization")] * len(answers)


def test_with_authorization_alone_cloud_run_strips_the_signature_and_the_function_refuses(
    stack: Stack,
) -> None:
    stack.start_function(front=front(stack))
    body = job(stack, rows=5)

    response = stack.call(body, for_cloud_run=False)

    assert response.status_code == 401
    assert "signature" in response.json()["error"]["message"]
    assert stack.callmarker_app.requests == []
    checklist = stack.call({"action": "diagnose", **body}, for_cloud_run=False).json()
    sign_in = checklist["checks"][0]
    assert sign_in["ok"] is False
    assert "X-Serverless-Authorization" in sign_in["fix"]


def test_the_stand_in_replaces_the_signature_of_the_header_it_consumed() -> None:
    from tests.emulators.identity import TokenIssuer

    issuer = TokenIssuer()
    token = issuer.sign()
    received: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        received.append(environ)
        start_response("200 OK", [])
        return [b""]

    cloud_run = CloudRunFront(
        app,
        issuer=issuer,
        service_url=SERVICE_URL,
        custom_audiences=[issuer.audience],
        invokers=["domain:example.com"],
    )
    both = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_SERVERLESS_AUTHORIZATION": f"Bearer {token}"}
    cloud_run(dict(both), lambda *a: None)
    cloud_run({"HTTP_AUTHORIZATION": f"Bearer {token}"}, lambda *a: None)

    head, payload, _ = token.split(".")
    assert received[0]["HTTP_AUTHORIZATION"] == f"Bearer {token}"
    assert received[0]["HTTP_X_SERVERLESS_AUTHORIZATION"] == f"Bearer {head}.{payload}.{SIGNATURE_REMOVED}"
    assert received[1]["HTTP_AUTHORIZATION"] == f"Bearer {head}.{payload}.{SIGNATURE_REMOVED}"


def test_an_account_without_the_invoker_role_never_reaches_the_function(stack: Stack) -> None:
    wrap = front(
        stack,
        invokers=["group:callmarker-reps@example.com"],
        groups={"callmarker-reps@example.com": ["avi@example.com"]},
    )
    stack.start_function(front=wrap)
    body = job(stack, rows=5)

    refused = stack.call(body)
    member = stack.call(body, id_token=stack.id_token(email="avi@example.com"))

    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith("text/html")  # Cloud Run's page, not the function's
    assert member.status_code == 403  # in the group, but the function admits only its allowed emails
    assert member.json()["error"]["message"].endswith("is not allowed to use this function")
    (cloud_run,) = wrap.made  # type: ignore[attr-defined]
    assert Counter(code for code, _ in cloud_run.seen) == {403: 1, 200: 1}


def test_a_token_for_another_audience_is_refused_by_cloud_run(stack: Stack) -> None:
    stack.start_function(front=front(stack))
    response = stack.call(
        job(stack, rows=5), id_token=stack.id_token(aud="someone-else.apps.googleusercontent.com")
    )
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")


def test_public_mode_lets_the_request_through_and_the_function_alone_checks(stack: Stack) -> None:
    stack.start_function(front=front(stack, invoker_iam_check=False))
    body = job(stack, rows=10)

    answers = stack.run_job(body)
    stranger = stack.call(body, id_token=stack.id_token(email="mallory@elsewhere.example", hd=None))

    assert answers[-1]["counts"]["uploaded"] == 10
    assert stranger.status_code == 403
    assert stranger.json()["error"]["message"].endswith("is not allowed to use this function")
