"""The widget as the page renders it: the template tag, its assets, translations, privacy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import translation

import genlook_django

pytestmark = pytest.mark.django_db

STATIC = Path(genlook_django.__file__).parent / "static" / "genlook"


def render(template: str, request=None, **context) -> str:
    request = request or RequestFactory().get("/")
    return Template("{% load genlook %}" + template).render(
        Context({"request": request, **context})
    )


def test_the_product_page_shows_the_button(storefront, client, product):
    response = client.get(product.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-product="shop.product:{product.pk}"' in html
    assert 'data-api="/genlook/api/tryons/"' in html
    assert "<dialog" in html and 'aria-labelledby="genlook-' in html
    # The consent box is never ticked for the shopper, and links to the privacy notice.
    consent = re.search(r"<input type=\"checkbox\"[^>]*data-genlook-consent[^>]*>", html).group(0)
    assert "checked" not in consent
    assert 'href="/genlook/privacy/"' in html
    # Camera capture on phones.
    assert 'capture="user"' in html
    # No inline script or style: a strict CSP works.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html.split("<body", 1)[1]
    # The API key stays on the server; the CSRF cookie is set for the widget's POST.
    assert storefront.api_key not in html
    assert "csrftoken" in response.cookies


def test_the_assets_are_linked_once_per_page(storefront, product, make_product):
    other = make_product("Wool Scarf")
    html = render("{% genlook_tryon_button a %}{% genlook_tryon_button b %}", a=product, b=other)
    assert html.count("genlook/tryon.js") == 1
    assert html.count("genlook/tryon.css") == 1
    assert html.count("/genlook/jsi18n/") == 1
    assert html.count("data-genlook-tryon") == 2
    # Each dialog has its own ids.
    ids = re.findall(r'<dialog[^>]* id="([^"]+)"', html)
    assert len(set(ids)) == 2


def test_assets_can_go_in_the_head(storefront, product):
    html = render("{% genlook_tryon_assets %}<body>{% genlook_tryon_button p %}", p=product)
    head, body = html.split("<body>")
    assert "tryon.js" in head and "tryon.js" not in body


def test_options(storefront, product):
    html = render(
        '{% genlook_tryon_button p label="See it on me" button_class="btn btn-outline" '
        'privacy_url="/legal/photos/" title="The shirt" %}',
        p=product,
    )
    assert "See it on me" in html
    assert 'class="genlook-tryon__open btn btn-outline"' in html
    assert 'href="/legal/photos/"' in html
    assert "The shirt" in html


def test_privacy_url_setting(storefront, settings, product):
    settings.GENLOOK = {**settings.GENLOOK, "PRIVACY_URL": "https://shop.example/privacy"}
    assert 'href="https://shop.example/privacy"' in render(
        "{% genlook_tryon_button p %}", p=product
    )


def test_nothing_for_a_product_that_cannot_be_tried_on(storefront, make_product):
    inactive = make_product(is_active=False)
    without_image = make_product(image=None)
    assert render("{% genlook_tryon_button p %}", p=inactive).strip() == ""
    assert render("{% genlook_tryon_button p %}", p=without_image).strip() == ""


def test_the_template_can_be_overridden(storefront, product, tmp_path, settings):
    (tmp_path / "genlook").mkdir()
    (tmp_path / "genlook" / "tryon_button.html").write_text(
        "<my-button data-product='{{ product_ref }}'>{{ label|default:'Fit me' }}</my-button>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    html = render("{% genlook_tryon_button p %}", p=product)
    assert f"<my-button data-product='shop.product:{product.pk}'>Fit me</my-button>" in html


def test_the_urls_must_be_included(storefront, product):
    with (
        override_settings(ROOT_URLCONF="example_shop.shop.urls"),
        pytest.raises(TemplateSyntaxError, match=r"genlook_django\.urls"),
    ):
        render("{% genlook_tryon_button p %}", p=product)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Essayez-le"),
        ("es", "Pruébatelo"),
        ("de", "Anprobieren"),
        ("ja", "試着する"),
    ],
)
def test_the_widget_speaks_the_shoppers_language(storefront, product, client, language, expected):
    with translation.override(language):
        html = render("{% genlook_tryon_button p %}", p=product)
        catalog = client.get(reverse("genlook:jsi18n")).content.decode()
    assert expected in html
    strings = json.loads(re.search(r"const newcatalog = (\{.*?\});", catalog, re.S).group(1))
    assert len(strings) >= 25  # the widget's messages, translated
    assert all(isinstance(value, str | list) for value in strings.values())


def test_every_js_string_is_translated():
    source = (STATIC / "tryon.js").read_text()
    used = set(re.findall(r'gettext\("((?:[^"\\]|\\.)*)"\)', source))
    assert len(used) > 25
    for language in ("fr", "es", "de", "ja"):
        catalog = _djangojs(language)
        missing = sorted(s for s in used if not catalog.get(s))
        assert not missing, f"{language}: untranslated {missing}"


def _djangojs(language: str) -> dict[str, str]:
    import gettext

    path = Path(genlook_django.__file__).parent / "locale"
    catalog = gettext.translation("djangojs", localedir=path, languages=[language])
    return {key: value for key, value in catalog._catalog.items() if isinstance(key, str)}


def test_the_privacy_notice(storefront, client, settings):
    settings.GENLOOK = {**settings.GENLOOK, "KEEP_FOR_DAYS": 3, "CONSENT_VERSION": "2026-01"}
    response = client.get(reverse("genlook:privacy"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "after 3 days" in html
    assert "Consent text version 2026-01" in html
    with translation.override("fr"):
        page = client.get(reverse("genlook:privacy")).content.decode()
    assert "essayage virtuel et votre photo" in page


def test_static_files_need_no_build_step():
    script = (STATIC / "tryon.js").read_text()
    style = (STATIC / "tryon.css").read_text()
    assert "import " not in script and "require(" not in script
    assert "showModal" in script and "Tab" in script  # a modal dialog, focus kept inside
    assert "--genlook-accent" in style


def test_system_checks_for_the_storefront(settings):
    from genlook_django.checks import check_storefront

    assert check_storefront() == []
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PHOTOS_STORAGE": "private",
        "UPLOAD_QUOTA": 10,
        "KEEP_FOR_DAYS": 5,
    }
    assert [m.id for m in check_storefront()] == ["genlook.E004", "genlook.E005", "genlook.E005"]
