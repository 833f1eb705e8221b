"""Erasure state kept in its own tables: an erasure owed follows a visitor who signs in,
and an earlier key recorded twice stays one row."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from genlook_django.models import ErasureDebt, ShopperAlias
from genlook_django.services.tryons import shoppers

VISITOR = "a_" + "2" * 40


def _sign_in(user_pk: int) -> str:
    request = SimpleNamespace(session={shoppers.SESSION_KEY: VISITOR})
    shoppers.adopt_anonymous(None, request, SimpleNamespace(pk=user_pk))
    return shoppers.user_key(user_pk)


@pytest.mark.django_db
def test_an_erasure_owed_to_a_visitor_is_owed_to_the_user_they_sign_in_as():
    ErasureDebt.objects.create(shopper_key=VISITOR)

    user_key = _sign_in(5)

    assert list(ErasureDebt.objects.values_list("shopper_key", flat=True)) == [user_key]
    assert shoppers.aliases(user_key) == [VISITOR]  # erased at Genlook with the user's key


@pytest.mark.django_db
def test_a_user_already_owed_an_erasure_keeps_one():
    user_key = shoppers.user_key(6)
    ErasureDebt.objects.create(shopper_key=VISITOR)
    ErasureDebt.objects.create(shopper_key=user_key)

    _sign_in(6)

    assert list(ErasureDebt.objects.values_list("shopper_key", flat=True)) == [user_key]


@pytest.mark.django_db
def test_an_alias_recorded_again_is_one_row_recorded_later():
    user_key = shoppers.user_key(7)
    shoppers.record_alias(user_key, VISITOR)
    first = ShopperAlias.objects.get().created_at

    shoppers.record_alias(user_key, VISITOR)

    assert ShopperAlias.objects.get().created_at >= first
    shoppers.forget_aliases(user_key, [VISITOR])
    assert not ShopperAlias.objects.exists()
