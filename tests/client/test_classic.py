"""The client's classic dialect against the sandbox's classic routes, over real HTTP: the
same methods and the same typed exceptions as v1, Bearer authentication, native batches,
and what the classic API lacks refused before anything is sent."""

from __future__ import annotations

import pytest

from genlook_django.client import (
    AuthenticationError,
    GenerationNotFoundError,
    GenlookClient,
    InlineProduct,
    InsufficientCreditsError,
    LocalRateLimiter,
    RateLimitedError,
    ServerError,
    UnsupportedFeatureError,
    ValidationError,
)

UNREACHABLE = "http://127.0.0.1:9/nothing.jpg"  # nothing listens on the discard port


@pytest.fixture
def dialect_client(genlook_sandbox, sleeps):
    """A client of either dialect on the same sandbox account."""

    def make(api: str, **overrides) -> GenlookClient:
        base = genlook_sandbox.classic_base_url if api == "classic" else genlook_sandbox.base_url
        options = {
            "api": api,
            "base_url": base,
            "rate_limiter": LocalRateLimiter(1000, 60),
            "sleep": sleeps,
            "read_timeout": 10,
            "max_retries": 0,
        }
        options.update(overrides)
        return GenlookClient(options.pop("api_key", genlook_sandbox.api_key), **options)

    return make


@pytest.fixture
def classic(dialect_client) -> GenlookClient:
    return dialect_client("classic")


def garment(url: str, category: str = "tops") -> InlineProduct:
    return InlineProduct("shirt-1", images=[url], category=category)


def test_a_classic_try_on_runs_to_its_result(classic, genlook_sandbox, garment_url):
    genlook_sandbox.state.configure(generation_seconds=0.2)
    created = classic.create_try_on(
        product=garment(garment_url), person=garment_url, webhook_url=None
    )
    assert created.status == "PROCESSING"
    done = classic.wait_for_generation(created.id, timeout=10, interval=0.05)
    assert done.is_completed and done.result_image_url
    assert classic.download(done.result_image_url)[:3] == b"\xff\xd8\xff"  # a JPEG
    # Bearer on the classic routes (which refuse x-api-key), nothing on v1's.
    assert genlook_sandbox.state.count("POST", "/v1/try-on", status=201) == 1
    assert genlook_sandbox.state.count(path="/try-on") == 0


def test_the_classic_status_words_become_v1_s(classic, genlook_sandbox, garment_url):
    genlook_sandbox.state.set_faults(fail_generations=1.0, fail_error_code="MODEL_OVERLOADED")
    genlook_sandbox.state.configure(generation_seconds=0.1)
    created = classic.create_try_on(product=garment(garment_url), person=garment_url)
    failed = classic.wait_for_generation(created.id, timeout=10, interval=0.05)
    assert failed.status == "FAILED" and failed.error_code == "MODEL_OVERLOADED"
    assert failed.updated_at is not None  # completed_at


def test_sync_creates_in_the_classic_dialect_come_back_processing(classic, garment_url):
    generation = classic.create_try_on_sync(product=garment(garment_url), person=garment_url)
    assert generation.status == "PROCESSING"


@pytest.mark.parametrize("api", ["v1", "classic"])
def test_400_is_a_validation_error_in_both_dialects(dialect_client, api, genlook_sandbox):
    genlook_sandbox.state.set_faults(error_rates={400: 1.0})
    with pytest.raises(ValidationError) as raised:
        dialect_client(api).get_generation("cm-any")
    assert raised.value.status == 400 and not raised.value.is_transient


def test_a_classic_400_names_the_image_it_could_not_fetch(classic, genlook_sandbox, garment_url):
    with pytest.raises(ValidationError) as raised:
        classic.create_try_on(product=garment(garment_url), person=UNREACHABLE)
    assert raised.value.status == 400 and raised.value.code == "INVALID_IMAGE_URL"
    # The classic details object, with its field under v1's "path".
    assert raised.value.details[0]["path"] == "model_image"
    assert genlook_sandbox.state.generations_created(genlook_sandbox.api_key) == 0


@pytest.mark.parametrize("api", ["v1", "classic"])
def test_401_is_an_authentication_error_in_both_dialects(dialect_client, api):
    client = dialect_client(api, api_key="gk_nobody_has_this")
    with pytest.raises(AuthenticationError) as raised:
        client.get_generation("cm-unknown")
    assert raised.value.status == 401 and raised.value.code == "INVALID_API_KEY"


@pytest.mark.parametrize("api", ["v1", "classic"])
def test_402_is_insufficient_credits_in_both_dialects(
    dialect_client, api, genlook_sandbox, garment_url
):
    genlook_sandbox.state.set_credits(genlook_sandbox.api_key, 0)
    with pytest.raises(InsufficientCreditsError) as raised:
        dialect_client(api).create_try_on(product=garment(garment_url), person=garment_url)
    assert raised.value.status == 402 and raised.value.code == "INSUFFICIENT_CREDITS"


@pytest.mark.parametrize("api", ["v1", "classic"])
def test_429_is_rate_limited_with_retry_after_in_both_dialects(
    dialect_client, api, genlook_sandbox
):
    genlook_sandbox.state.set_faults(error_rates={429: 1.0})
    with pytest.raises(RateLimitedError) as raised:
        dialect_client(api).get_generation("cm-any")
    assert raised.value.status == 429 and raised.value.retry_after == 1.0
    assert raised.value.is_transient


@pytest.mark.parametrize("api", ["v1", "classic"])
def test_500_is_a_server_error_in_both_dialects(dialect_client, api, genlook_sandbox):
    genlook_sandbox.state.set_faults(error_rates={500: 1.0})
    with pytest.raises(ServerError) as raised:
        dialect_client(api).get_generation("cm-any")
    assert raised.value.status == 500 and raised.value.code == "INTERNAL_ERROR"
    assert not raised.value.may_have_been_processed


def test_a_429_is_retried_after_its_retry_after(dialect_client, genlook_sandbox, sleeps):
    genlook_sandbox.state.set_faults(error_rates={429: 0.5}, mode="even")
    client = dialect_client("classic", max_retries=2)
    with pytest.raises(GenerationNotFoundError):  # the first request goes through
        client.get_generation("cm-unknown")
    assert sleeps.calls == []
    with pytest.raises(GenerationNotFoundError):  # 429, then the retry goes through
        client.get_generation("cm-unknown")
    assert len(sleeps.calls) == 1 and sleeps.calls[0] >= 1.0  # its Retry-After: 1
    assert genlook_sandbox.state.count(status=429) == 1


@pytest.mark.parametrize(
    ("call", "feature"),
    [
        (lambda c: c.get_credits(), "credits"),
        (lambda c: c.delete_customer("shopper-1"), "customers"),
        (lambda c: c.upsert_product("shirt-1", title="Shirt"), "products"),
        (lambda c: list(c.list_products()), "products"),
        (lambda c: c.delete_product("shirt-1"), "products"),
        (lambda c: c.upload_image(b"\xff\xd8\xff"), "uploads"),
        (lambda c: c.create_try_on(product="shirt-1", person="https://x.test/me.jpg"), "products"),
    ],
)
def test_what_the_classic_api_lacks_is_refused_before_sending(
    classic, genlook_sandbox, call, feature
):
    with pytest.raises(UnsupportedFeatureError) as raised:
        call(classic)
    assert raised.value.feature == feature and raised.value.code == "UNSUPPORTED_FEATURE"
    assert not classic.supports(feature)
    assert genlook_sandbox.state.count() == 0


def test_v1_has_no_batch_endpoint(dialect_client):
    client = dialect_client("v1")
    assert not client.supports("batch")
    with pytest.raises(UnsupportedFeatureError):
        client.create_batch([(garment("https://x.example/t.png"), "https://x.example/me.jpg")])


def test_a_native_batch_is_one_request_with_an_answer_per_entry(
    classic, genlook_sandbox, garment_url
):
    credits = genlook_sandbox.state.get_credits(genlook_sandbox.api_key)
    entries = classic.create_batch(
        [
            (garment(garment_url), garment_url),
            (garment(garment_url, "dresses"), UNREACHABLE),
            (garment(garment_url, "caps"), garment_url),
        ]
    )
    assert [entry.index for entry in entries] == [0, 1, 2]
    assert entries[0].generation.status == "PROCESSING" and entries[2].generation
    rejected = entries[1]
    assert rejected.generation is None
    assert isinstance(rejected.error, ValidationError)
    assert rejected.error.code == "INVALID_IMAGE_URL"
    assert rejected.error.details[0]["path"] == "model_image"
    assert genlook_sandbox.state.count("POST", "/v1/try-on/batch") == 1
    assert genlook_sandbox.state.get_credits(genlook_sandbox.api_key) == credits - 2


def test_the_classic_dialect_wants_a_known_category(classic, genlook_sandbox, garment_url):
    with pytest.raises(ValueError, match="category"):
        classic.create_try_on(product=garment(garment_url, "socks"), person=garment_url)
    assert genlook_sandbox.state.count() == 0


def test_the_classic_client_defaults_to_the_classic_address():
    client = GenlookClient("gk_x", api="classic")
    assert client.base_url == "https://api.genlook.app"
    assert "gk_x" not in repr(client)
    with pytest.raises(ValueError):
        GenlookClient("gk_x", api="v2")
