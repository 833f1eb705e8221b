"""Each error family arrives as its typed exception, carrying code, status, message, body."""

import pytest

from genlook_django.client import (
    AuthenticationError,
    GenerationNotFoundError,
    GenlookAPIError,
    ImageFile,
    InlineProduct,
    InsufficientCreditsError,
    PermissionDeniedError,
    ProductNotFoundError,
    RateBudgetTimeout,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from genlook_django.client.errors import error_from_response


def test_wrong_api_key_is_an_authentication_error(make_client):
    with pytest.raises(AuthenticationError) as caught:
        make_client(api_key="gk_not_a_real_key").get_credits()
    assert caught.value.code == "INVALID_API_KEY"
    assert caught.value.status == 401


def test_bad_image_is_a_validation_error(client):
    with pytest.raises(ValidationError) as caught:
        client.upload_image(b"this is not an image at all")
    assert caught.value.code == "INVALID_IMAGE"
    assert caught.value.status == 400
    assert caught.value.body["code"] == "INVALID_IMAGE"


def test_validation_details_are_kept(client, person_bytes, garment_bytes):
    with pytest.raises(ValidationError) as caught:
        client.create_try_on(
            product=InlineProduct("x", title="Tee", images=[ImageFile(garment_bytes)]),
            person=person_bytes,
            keep_for_days=5,  # only 1, 3 or 7 exist
        )
    assert caught.value.code == "VALIDATION_FAILED"
    assert caught.value.details
    assert all("path" in detail and "message" in detail for detail in caught.value.details)


def test_product_without_images_is_rejected(client, person_bytes):
    with pytest.raises(ValidationError) as caught:
        client.create_try_on(product=InlineProduct("naked", title="Tee"), person=person_bytes)
    assert caught.value.code == "PRODUCT_IMAGES_REQUIRED"


def test_unknown_generation_is_not_found(client):
    with pytest.raises(GenerationNotFoundError) as caught:
        client.get_generation("gen_does_not_exist")
    assert caught.value.status == 404


def test_another_accounts_generation_is_forbidden(
    genlook_sandbox, make_client, person_bytes, garment_bytes
):
    genlook_sandbox.state.add_account("gk_other_shop", credits=5)
    theirs = make_client(api_key="gk_other_shop").create_try_on(
        product=InlineProduct("theirs", title="Tee", images=[ImageFile(garment_bytes)]),
        person=person_bytes,
    )
    with pytest.raises(PermissionDeniedError) as caught:
        make_client().get_generation(theirs.id)
    assert caught.value.code == "FORBIDDEN"


def test_empty_balance_is_insufficient_credits(
    genlook_sandbox, client, person_bytes, garment_bytes
):
    genlook_sandbox.state.set_credits(genlook_sandbox.api_key, 0)
    with pytest.raises(InsufficientCreditsError) as caught:
        client.create_try_on(
            product=InlineProduct("broke", title="Tee", images=[ImageFile(garment_bytes)]),
            person=person_bytes,
        )
    assert caught.value.status == 402
    assert caught.value.code == "INSUFFICIENT_CREDITS"
    assert client.get_credits() == 0


def test_rate_limited_when_retries_are_exhausted(genlook_sandbox, make_client):
    genlook_sandbox.state.configure(rate_limit=2, rate_window=60)
    client = make_client(max_retries=0)
    client.get_credits()
    client.get_credits()
    with pytest.raises(RateLimitedError) as caught:
        client.get_credits()
    assert caught.value.code == "RATE_LIMITED"
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1


def test_server_error_when_retries_are_exhausted(genlook_sandbox, make_client):
    genlook_sandbox.state.set_faults(error_rates={500: 1.0})
    with pytest.raises(ServerError) as caught:
        make_client(max_retries=0).get_credits()
    assert caught.value.status == 500


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (418, {"code": "I_AM_NEW", "message": "Brand new", "status": 418}, GenlookAPIError),
        (400, {"code": "SOMETHING_NEW", "message": "New 400"}, ValidationError),
        (503, "<html>bad gateway</html>", ServerError),
        (402, {"error": {"code": "QUOTA_EXCEEDED", "message": "Alpha"}}, InsufficientCreditsError),
    ],
)
def test_unknown_and_odd_error_bodies_keep_their_raw_code(status, body, expected):
    error = error_from_response(status, body, {"Retry-After": "3"})
    assert type(error) is expected
    assert error.status == status
    assert error.body == body
    if isinstance(body, dict):
        assert error.code == (body.get("code") or body["error"]["code"])
    assert str(error)


# -- The API key never shows (R5, tests/reliability/test_r5_api_key.py) ---------------------------


def test_a_key_with_a_stray_line_break_is_sent_without_it(genlook_sandbox, make_client):
    # As read from a secrets file: requests would refuse it, quoting the whole key.
    assert make_client(api_key=genlook_sandbox.api_key + "\n").get_credits() >= 0


@pytest.mark.parametrize(
    "key",
    ["gk_live_5f0c9a7e\r\n3d1b48a6", "gk_live_5f0c9a7e 3d1b48a6", "gk_live_5f0c9a7e\u20193d1b"],
)
def test_a_key_no_header_can_carry_is_refused_unsent_and_unquoted(
    genlook_sandbox, make_client, key
):
    with pytest.raises(AuthenticationError) as caught:
        make_client(api_key=key).get_credits()
    assert caught.value.code == "INVALID_API_KEY"
    assert "5f0c9a7e" not in str(caught.value)
    assert genlook_sandbox.state.requests == []  # never sent


def _failure(client) -> BaseException:
    """The error of a call, caught where nothing else holds the key."""
    try:
        client.get_credits()
    except Exception as error:
        return error
    raise AssertionError("the call succeeded")


def test_the_key_is_in_no_frame_of_a_failed_call(make_client, monkeypatch):
    """What Django's debug page, an HTML admin e-mail or an error tracker shows of a
    traceback: each frame's locals (requests' headers, http.client's buffer of the request
    as sent, in the frames of a connection error's cause)."""
    import secrets
    import traceback

    import requests
    from django.views.debug import ExceptionReporter

    from genlook_django.client import TransportError

    secret = secrets.token_hex(16)  # not in any source line a traceback shows
    refused = _failure(make_client(api_key=f"gk_live_{secret}", base_url="http://127.0.0.1:9/v1"))
    assert isinstance(refused, TransportError)

    def crash(*args, **kwargs):
        raise RuntimeError("the network stack failed")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", crash)
    crashed = _failure(make_client(api_key=f"gk_live_{secret}"))

    for error, what in ((refused, "Connection refused"), (crashed, "the network stack failed")):
        text = "".join(
            traceback.TracebackException.from_exception(error, capture_locals=True).format()
        )
        page = ExceptionReporter(None, type(error), error, error.__traceback__).get_traceback_html()
        assert secret not in text and secret not in page
        assert what in text  # the traceback still says what happened


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ServerError("down", status=503), True),
        (RateLimitedError("slow down", status=429), True),
        (TransportError("reset", request_sent=True), True),
        (RateBudgetTimeout("budget busy"), True),
        (ValidationError("bad", status=400), False),
        (InsufficientCreditsError("no credits", status=402), False),
        (ProductNotFoundError("gone", status=404), False),
        (AuthenticationError("who", status=401), False),
    ],
)
def test_is_transient_says_whether_the_same_call_may_succeed_later(error, transient):
    assert error.is_transient is transient
