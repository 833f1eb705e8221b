"""What is retried, how long it waits, and what is never sent twice."""

import logging
import socket

import pytest

from genlook_django.client import (
    GenlookClient,
    ImageFile,
    InlineProduct,
    RateLimitedError,
    ServerError,
    TransportError,
    Unlimited,
    ValidationError,
)
from tests.client.stub import stub_server


def test_transient_5xx_and_429_are_retried_until_success(genlook_sandbox, make_client):
    # Evenly, not drawn: exactly 35% of the requests fail, never two in a row.
    genlook_sandbox.state.set_faults(error_rates={500: 0.2, 503: 0.1, 429: 0.05}, mode="even")
    client = make_client(max_retries=8)

    balances = [client.get_credits() for _ in range(30)]

    assert len(balances) == 30
    injected = sum(genlook_sandbox.state.count(status=code) for code in (500, 503, 429))
    assert injected >= 10  # the faults really happened, and none reached the caller
    assert all(genlook_sandbox.state.count(status=code) for code in (500, 503, 429))


def test_backoff_grows_is_capped_and_honours_retry_after(genlook_sandbox, make_client, sleeps):
    genlook_sandbox.state.set_faults(error_rates={500: 1.0})
    client = make_client(max_retries=5, backoff_initial=0.1, backoff_max=0.4)
    with pytest.raises(ServerError):
        client.get_credits()
    assert len(sleeps.calls) == 5
    assert max(sleeps.calls) <= 0.4 + 0.1  # cap plus jitter
    assert sleeps.calls[2] > sleeps.calls[0]

    sleeps.calls.clear()
    genlook_sandbox.state.set_faults(error_rates={429: 1.0})
    with pytest.raises(RateLimitedError):
        make_client(max_retries=1, backoff_initial=0.01).get_credits()
    assert sleeps.calls and sleeps.calls[0] >= 1.0  # the sandbox's Retry-After


def test_other_4xx_are_not_retried(genlook_sandbox, client):
    with pytest.raises(ValidationError):
        client.upload_image(b"not an image")
    assert genlook_sandbox.state.count(method="POST", path="/images/upload") == 1


def test_a_create_that_timed_out_is_not_sent_again(
    genlook_sandbox, make_client, person_bytes, garment_bytes
):
    genlook_sandbox.state.configure(generation_seconds=0.2)
    genlook_sandbox.state.set_faults(timeout_rate=1.0, timeout_seconds=2)
    client = make_client(read_timeout=0.5, max_retries=3)

    with pytest.raises(TransportError) as caught:
        client.create_try_on(
            product=InlineProduct("slow", title="Tee", images=[ImageFile(garment_bytes)]),
            person=person_bytes,
        )

    assert caught.value.request_sent is True
    assert genlook_sandbox.state.count(method="POST", path="/try-on") == 1
    assert genlook_sandbox.state.generations_created() == 1  # accepted once, never twice


def test_a_read_that_timed_out_is_retried(genlook_sandbox, make_client):
    genlook_sandbox.state.set_faults(timeout_rate=1.0, timeout_seconds=1)
    client = make_client(read_timeout=0.3, max_retries=2)
    with pytest.raises(TransportError):
        client.get_credits()
    assert genlook_sandbox.state.count(method="GET", path="/account/credits") == 3


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_connections_are_retried_even_for_creates(sleeps, person_bytes, garment_bytes):
    client = GenlookClient(
        "gk_any",
        base_url=f"http://127.0.0.1:{closed_port()}/tryon/v1",
        rate_limiter=Unlimited(),
        max_retries=2,
        sleep=sleeps,
    )
    with pytest.raises(TransportError) as caught:
        client.create_try_on(
            product=InlineProduct("x", title="Tee", images=[ImageFile(garment_bytes)]),
            person=person_bytes,
        )
    assert caught.value.request_sent is False  # nothing reached Genlook: safe to re-send
    assert len(sleeps.calls) == 2


def test_the_api_key_is_not_in_reprs_errors_or_logs(genlook_sandbox, make_client, caplog):
    secret = "gk_secret_value_123"
    genlook_sandbox.state.add_account(secret, credits=1)
    genlook_sandbox.state.set_faults(secret, error_rates={500: 1.0})
    client = make_client(api_key=secret, max_retries=2)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ServerError) as caught:
        client.get_credits()

    unreachable = GenlookClient(
        secret, base_url=f"http://127.0.0.1:{closed_port()}/v1", max_retries=0
    )
    with pytest.raises(TransportError) as refused:
        unreachable.get_credits()

    assert caplog.records  # the retries were logged...
    for text in (
        repr(client),
        str(caught.value),
        repr(caught.value),
        str(refused.value),
        caplog.text,
    ):
        assert secret not in text  # ...without the key


def create_with(client, garment_bytes):
    return client.create_try_on(
        product=InlineProduct("x", title="Tee", images=[ImageFile(garment_bytes)]),
        person=b"\xff\xd8\xff" + b"0" * 64,
    )


@pytest.mark.parametrize("status", [502, 504])
def test_a_create_answered_by_a_gateway_error_is_not_sent_again(status, sleeps, garment_bytes):
    with stub_server([(status, None)]) as (base_url, script):
        client = GenlookClient("gk_x", base_url=base_url, rate_limiter=Unlimited(), sleep=sleeps)
        with pytest.raises(ServerError) as caught:
            create_with(client, garment_bytes)
        assert caught.value.may_have_been_processed
        assert script.received == [("POST", "/tryon/v1/try-on")]

        with pytest.raises(ServerError):  # a read is retried on the same answer
            client.get_credits()
        assert len(script.received) == 1 + 5


def test_a_create_answered_500_or_503_is_retried(sleeps, garment_bytes):
    answers = [
        (500, {"code": "INTERNAL_ERROR", "message": "x", "status": 500}),
        (503, None),
        (200, {"generationId": "g1", "status": "PENDING", "productExternalId": "x"}),
    ]
    with stub_server(answers) as (base_url, script):
        client = GenlookClient("gk_x", base_url=base_url, rate_limiter=Unlimited(), sleep=sleeps)
        assert create_with(client, garment_bytes).id == "g1"
        assert len(script.received) == 3


def test_sync_200_without_a_status_is_a_finished_generation(garment_bytes):
    body = {"generationId": "g2", "resultImageUrl": "http://127.0.0.1/r.jpg"}
    with stub_server([(200, body)]) as (base_url, _):
        client = GenlookClient("gk_x", base_url=base_url, rate_limiter=Unlimited())
        generation = client.create_try_on_sync(product="x", person="image-id")
        assert generation.is_completed
        assert generation.result_image_url == "http://127.0.0.1/r.jpg"
    with stub_server([(202, {"generationId": "g3"})]) as (base_url, _):
        client = GenlookClient("gk_x", base_url=base_url, rate_limiter=Unlimited())
        assert not client.create_try_on_sync(product="x", person="image-id").is_finished


def test_retry_after_as_an_http_date():
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from genlook_django.client.errors import parse_retry_after

    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after(later) <= 31
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("soon") is None
