"""``POST /v1/try-on/batch``: one entry per request, in order; valid ones charged and run."""

from tests.sandbox.classic import assert_classic_error, try_on


def test_a_mixed_batch_runs_the_valid_entries_and_rejects_the_others(
    classic, api, media, model_url, garment_url
):
    before = api.credits()
    body = {
        "requests": [
            try_on(model_url, garment_url, "tops"),
            try_on(model_url, garment_url, "hats"),
            try_on(model_url, media.url("/products/gone.png"), "dresses"),
            try_on(model_url, garment_url, "dresses"),
        ],
        "webhook_url": media.url("/hooks/batch"),
    }

    response = classic.batch(body)

    assert response.status_code == 201, response.text
    entries = response.json()["generations"]
    assert [e["index"] for e in entries] == [0, 1, 2, 3]
    assert [e["status"] for e in entries] == ["processing", "rejected", "rejected", "processing"]
    assert entries[1]["id"] is None and entries[1]["error"]["code"] == "INVALID_CATEGORY"
    assert entries[2]["error"]["code"] == "INVALID_IMAGE_URL"
    assert entries[2]["error"]["details"]["field"] == "garment_image"
    accepted = [entries[0]["id"], entries[3]["id"]]
    assert all(e["eta_seconds"] >= 0 for e in (entries[0], entries[3]))
    assert api.credits() == before - 2  # one credit per accepted request
    assert [classic.wait(i)["status"] for i in accepted] == ["completed", "completed"]
    hooks = media.wait_for(2, "/hooks/batch")
    assert sorted(h.json()["id"] for h in hooks) == sorted(accepted)  # one per generation
    assert media.wait_for(3, "/hooks/batch", timeout=0.3) == hooks  # and no more
    assert len(media.requests_to("/photos/me.png")) == 1  # fetched once for the whole batch


def test_an_entrys_own_webhook_url_wins(classic, media, model_url, garment_url):
    body = {
        "requests": [try_on(model_url, garment_url, webhook_url=media.url("/hooks/own"))],
        "webhook_url": media.url("/hooks/batch"),
    }
    assert classic.batch(body).status_code == 201
    assert len(media.wait_for(1, "/hooks/own")) == 1
    assert media.requests_to("/hooks/batch") == []


def test_without_enough_credits_for_every_valid_entry_nothing_is_created(
    classic, api, sandbox, model_url, garment_url
):
    sandbox.state.set_credits(sandbox.api_key, 2)
    body = {"requests": [try_on(model_url, garment_url)] * 3 + [try_on(model_url, "x", "tops")]}

    error = assert_classic_error(classic.batch(body), 402, "INSUFFICIENT_CREDITS")

    assert error["details"] == {"required": 3, "available": 2}
    assert api.credits() == 2
    assert api.get("/_sandbox/generations").json()["generations"] == []


def test_a_batch_with_no_valid_entry_is_400_with_every_entry(classic, model_url, garment_url):
    body = {"requests": [try_on(model_url, garment_url, "hats"), {"category": "tops"}]}
    error = assert_classic_error(classic.batch(body), 400, "INVALID_REQUEST")
    entries = error["details"]["generations"]
    assert [e["error"]["code"] for e in entries] == ["INVALID_CATEGORY", "INVALID_REQUEST"]


def test_the_batch_itself_must_have_requests(classic, model_url, garment_url):
    for body in ({}, {"requests": []}, {"requests": "no"}):
        error = assert_classic_error(classic.batch(body), 400, "INVALID_REQUEST")
        assert "requests" in error["details"]["fields"]
    too_many = {"requests": [try_on(model_url, garment_url)] * 101}
    assert_classic_error(classic.batch(too_many), 400, "INVALID_REQUEST")


def test_a_batch_is_one_request_for_the_rate_limit(classic, sandbox, model_url, garment_url):
    sandbox.state.configure(rate_limit=1, rate_window=60)
    body = {"requests": [try_on(model_url, garment_url)] * 3}
    assert classic.batch(body).status_code == 201
    assert_classic_error(classic.batch(body), 429, "RATE_LIMITED")
