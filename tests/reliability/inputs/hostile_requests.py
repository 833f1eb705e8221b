"""R3's families of hostile requests around a photo: empty bodies, oversized and lying
bodies, wrong content types, broken multipart forms, absurd filenames, JSON bodies, bad
Content-Length headers, and photos sent where none is taken."""

from __future__ import annotations

import base64
import uuid

from django.urls import reverse

from tests.support import images
from tests.support.storefront import ME, TRY_ONS

from .hostile_images import MAGIC, MARKUP
from .images import MB
from .uploads import (
    BOUNDARY,
    IMAGE_CODES,
    INVALID,
    MEDIA_TYPE,
    MULTIPART,
    REQUEST_CODES,
    TOO_LARGE,
    UNSUPPORTED,
    Case,
    Kit,
    form,
    part,
)


def empty(kit: Kit) -> Case:
    rng = kit.rng
    kind = rng.choice(
        ["empty_file", "empty_body", "empty_body_no_type", "whitespace", "magic_only", "nul"]
    )
    if kind == "empty_file":
        return Case("empty", kind, kit.photo(b""), codes=INVALID)
    if kind == "empty_body":
        return Case("empty", kind, b"", codes=REQUEST_CODES | MEDIA_TYPE)
    if kind == "empty_body_no_type":
        return Case("empty", kind, b"", content_type=None, codes=REQUEST_CODES)
    if kind == "whitespace":
        return Case("empty", kind, kit.photo(b" \r\n\t" * rng.randint(1, 64)), codes=UNSUPPORTED)
    if kind == "nul":
        return Case("empty", kind, kit.photo(b"\x00" * rng.randint(1, 4096)), codes=UNSUPPORTED)
    magic = rng.choice([*MAGIC.values(), b"\xff\xd8\xff", images.heic_header()[:12]])
    return Case("empty", f"{kind} {magic[:8]!r}", kit.photo(magic), codes=IMAGE_CODES)


def oversized(kit: Kit) -> Case:
    """Bodies over the limit: 50 MB (refused on their length, unread), just over the photo
    limit (read, then refused), and lengths that lie."""
    rng = kit.rng
    kinds = ["multipart_50mb", "just_over", "json_50mb", "lying_length", "raw_50mb"]
    kind = kinds[kit.nth("oversized") % len(kinds)]  # each kind in turn: 50 MB in CI too
    if kind == "multipart_50mb":
        body = kit.memo("50mb-form", lambda: kit.photo(kit.big()))
        return Case("oversized", kind, body, codes=TOO_LARGE)
    if kind == "json_50mb":
        prefix = b'{"product": "' + kit.ref + b'", "consent": true, "photo": "'
        body = kit.memo("50mb-json", lambda: prefix + kit.big() + b'"}')
        return Case("oversized", kind, body, "application/json", codes=TOO_LARGE)
    if kind == "raw_50mb":
        return Case("oversized", kind, kit.big(), "image/jpeg", codes=TOO_LARGE)
    if kind == "just_over":  # read and parsed (to a temporary file), then refused
        size = 10 * MB + rng.randint(1, 32 * 1024)
        content = kit.bases.images["jpeg"] + b"\x00" * (size - len(kit.bases.images["jpeg"]))
        return Case("oversized", f"{kind} {size}", kit.photo(content), codes=TOO_LARGE)
    # A small body that claims to be 60 MB (never read: the length is enough)
    length = str(rng.randint(11 * MB, 60 * MB))
    body = kit.photo(kit.bases.images["jpeg"])
    return Case("oversized", kind, body, codes=TOO_LARGE, extra={"CONTENT_LENGTH": length})


def content_types(kit: Kit) -> Case:
    """A valid photo's multipart body under a wrong or missing Content-Type."""
    rng = kit.rng
    body = kit.photo(kit.bases.images["jpeg"])
    kind = rng.choice(
        [
            "image/jpeg",
            "application/octet-stream",
            "text/plain",
            "text/html",
            "application/xml",
            "image/svg+xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=wrong-boundary",
            f"multipart/form-data; boundary={'b' * 300}",
            "multipart/mixed; boundary=" + BOUNDARY,
            "multipart/related; boundary=" + BOUNDARY,
            "text/plain; charset=utf-8",
            "application/json",
            "MULTIPART/FORM-DATA",
            "",
            None,
        ]
    )
    if kind == "image/jpeg" and rng.random() < 0.5:
        body = kit.bases.images["jpeg"]  # the photo alone, as the body
    codes = MEDIA_TYPE | REQUEST_CODES
    return Case("content_types", repr(kind), body, kind, codes=codes)


def multipart_forms(kit: Kit) -> Case:
    """Broken forms, wrong field names, many files, photos as text fields."""
    rng = kit.rng
    bad = kit.bases.images["jpeg"][: rng.randint(100, 2000)]  # a truncated photo
    fields = kit.fields()
    kind = rng.choice(
        [
            "field_name",
            "two_files_last_bad",
            "many_files",
            "too_many_files",
            "too_many_fields",
            "photo_as_text",
            "photo_as_big_text",
            "no_disposition",
            "garbage_headers",
            "no_closing",
            "no_body_separator",
            "base64_garbage",
            "nested_multipart",
            "huge_header",
        ]
    )
    codes = REQUEST_CODES
    if kind == "field_name":
        name = rng.choice([b"image", b"file", b"photo[]", b"Photo", b"photo ", b"", b"ph\x00to"])
        parts = [*fields, part(name, bad, filename=b"me.jpg")]
        return Case("multipart", f"{kind} {name!r}", form(parts), codes=codes | INVALID)
    if kind == "two_files_last_bad":
        photos_ = [part(b"photo", kit.bases.images["jpeg"], filename=b"a.jpg")]
        photos_.append(part(b"photo", bad, filename=b"b.jpg"))
        return Case("multipart", kind, form([*fields, *photos_]), codes=INVALID)
    if kind in ("many_files", "too_many_files"):
        count = rng.randint(20, 98) if kind == "many_files" else rng.randint(101, 400)
        parts = [part(b"photo", bad, filename=b"p%d.jpg" % i) for i in range(count)]
        return Case("multipart", f"{kind} {count}", form([*fields, *parts]), codes=codes | INVALID)
    if kind == "too_many_fields":
        count = rng.randint(1001, 3000)
        parts = [part(b"f%d" % i, b"x") for i in range(count)]
        return Case("multipart", f"{kind} {count}", form([*fields, *parts]), codes=codes)
    if kind in ("photo_as_text", "photo_as_big_text"):
        size = rng.randint(100, 4000) if kind == "photo_as_text" else rng.randint(3, 9) * MB
        content = kit.bases.images["jpeg"][:size].ljust(size, b"\x00")
        parts = [*fields, part(b"photo", content)]
        return Case("multipart", f"{kind} {size}", form(parts), codes=codes)
    if kind == "no_disposition":
        parts = [*fields, part(None, bad, headers=b"Content-Type: image/jpeg")]
        return Case("multipart", kind, form(parts), codes=codes)
    if kind == "garbage_headers":
        headers = rng.randbytes(rng.randint(1, 200)).replace(b"\r\n\r\n", b"")
        parts = [*fields, part(None, bad, headers=headers)]
        return Case("multipart", kind, form(parts), codes=codes | INVALID | UNSUPPORTED)
    if kind == "no_closing":
        parts = [*fields, part(b"photo", bad, filename=b"me.jpg")]
        return Case("multipart", kind, form(parts, close=False), codes=codes | INVALID)
    if kind == "no_body_separator":
        raw = b'Content-Disposition: form-data; name="photo"; filename="me.jpg"\r\n' + bad
        return Case("multipart", kind, form([*fields, raw]), codes=codes | INVALID)
    if kind == "base64_garbage":
        headers = (
            b'Content-Disposition: form-data; name="photo"; filename="me.jpg"\r\n'
            b"Content-Transfer-Encoding: base64"
        )
        content = rng.choice([b"!!!not base64!!!", base64.b64encode(bad)[:-3], b"=" * 77])
        parts = [*fields, part(None, content, headers=headers)]
        return Case("multipart", kind, form(parts), codes=codes | IMAGE_CODES)
    if kind == "nested_multipart":
        inner = form([part(b"photo", bad, filename=b"me.jpg")], boundary="inner")
        parts = [
            *fields,
            part(b"photo", inner, ctype=b"multipart/mixed; boundary=inner", filename=b"me.jpg"),
        ]
        return Case("multipart", kind, form(parts), codes=codes | INVALID | UNSUPPORTED)
    # huge_header: a part's header far over Django's 1 kB bound
    headers = b'Content-Disposition: form-data; name="photo"; filename="me.jpg"\r\nX-Pad: '
    headers += b"a" * rng.randint(2000, 60_000)
    return Case("multipart", kind, form([*fields, part(None, bad, headers=headers)]), codes=codes)


def filenames(kit: Kit) -> Case:
    """Absurd filenames on files that are not photos."""
    rng = kit.rng
    name = rng.choice(
        [
            b"../../../../etc/passwd",
            b"..\\..\\..\\windows\\win.ini",
            b"/etc/shadow",
            b"a" * 10_000 + b".jpg",
            b"x" * 255 + b".jpg",
            b"me\x00.php.jpg",
            b"me.jpg\x00.html",
            b"\xe2\x80\xaegpj.exe",  # a right-to-left override
            b"me.jpg\r\nContent-Type: text/html",
            b"CON.jpg",
            b".",
            b"..",
            b"",
            b"%2e%2e%2fetc%2fpasswd",
            b"\xff\xfe\xfd.jpg",  # not UTF-8
            b"me.jpg;.php",
            b"<script>alert(1)</script>.jpg",
            "фото-😀.jpg".encode(),
        ]
    )
    content_kind = rng.choice(["html", "truncated", "svg"])
    if content_kind == "truncated":
        content, codes = kit.bases.images["png"][: rng.randint(50, 3000)], INVALID
    else:
        content, codes = rng.choice(MARKUP), UNSUPPORTED
    body = kit.photo(content, filename=name, ctype=kit.image_type())
    return Case("filenames", f"{name[:40]!r} {content_kind}", body, codes=codes | REQUEST_CODES)


def json_bodies(kit: Kit) -> Case:
    rng = kit.rng
    ref = kit.ref
    jpeg64 = base64.b64encode(kit.bases.images["jpeg"])
    kind = rng.choice(
        [
            "photo_base64",
            "photo_data_url",
            "photo_number",
            "photo_list",
            "photo_object",
            "photo_null",
            "deeply_nested",
            "invalid",
            "utf16",
            "nan",
            "huge_string",
            "top_level_list",
        ]
    )
    prefix = b'{"product": "' + ref + b'", "consent": true, "photo": '
    bodies = {
        "photo_base64": prefix + b'"' + jpeg64 + b'"}',
        "photo_data_url": prefix + b'"data:image/jpeg;base64,' + jpeg64 + b'"}',
        "photo_number": prefix + b"1e400}",
        "photo_list": prefix + b"[1, 2, 3]}",
        "photo_object": prefix + b'{"name": "me.jpg", "size": 1, "read": null}}',
        "photo_null": prefix + b"null}",
        "invalid": prefix + rng.randbytes(rng.randint(1, 200)),
        "utf16": (prefix + b'"x"}').decode().encode("utf-16"),
        "nan": prefix + b"NaN}",
        "huge_string": prefix + b'"' + b"A" * rng.randint(1 * MB, 9 * MB) + b'"}',
        "top_level_list": b"[" + prefix + b"1}]",
    }
    if kind == "deeply_nested":
        depth = rng.randint(50_000, 400_000)
        body = prefix + b"[" * depth + b"]" * depth + b"}"
    else:
        body = bodies[kind]
    return Case("json", kind, body, "application/json", codes=REQUEST_CODES)


def length_headers(kit: Kit) -> Case:
    """Missing, malformed or lying Content-Length; chunked bodies."""
    rng = kit.rng
    body = kit.photo(kit.bases.images["jpeg"][: rng.randint(200, 3000)])
    kind = rng.choice(
        [
            "",
            "abc",
            "-1",
            "1e3",
            "0x10",
            " 12 ",
            "\u00b2",
            "\u00b9\u00b2\u00b3",
            "0",
            "short",
            "chunked",
        ]
    )
    codes = frozenset({"LENGTH_REQUIRED"}) | REQUEST_CODES | INVALID
    if kind == "short":  # the length cuts the body short: a truncated form
        length = str(rng.randint(1, len(body) - 1))
        return Case(
            "length_headers",
            f"short {length}",
            body,
            codes=codes | IMAGE_CODES,
            extra={"CONTENT_LENGTH": length},
        )
    if kind == "chunked":
        extra = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked"}
        return Case("length_headers", kind, body, codes=codes, extra=extra)
    return Case("length_headers", repr(kind), body, codes=codes, extra={"CONTENT_LENGTH": kind})


def wrong_endpoints(kit: Kit) -> Case:
    """A photo (or a big JSON body) sent where no photo is taken."""
    rng = kit.rng
    some = uuid.UUID(int=rng.getrandbits(128), version=4)
    path = rng.choice(
        [
            ME,
            reverse("genlook:tryon-detail", kwargs={"public_id": some}),
            reverse("genlook:tryon-result", kwargs={"public_id": some}),
            reverse("genlook:photo-detail", kwargs={"public_id": some}),
            TRY_ONS,
        ]
    )
    method = rng.choice(["POST", "PUT", "PATCH", "DELETE"])
    if path == TRY_ONS and method == "POST":
        method = "PUT"
    kind = rng.choice(["photo", "json_big", "json_nested"])
    content_type = MULTIPART
    if kind == "photo":
        body = kit.photo(kit.bases.images["jpeg"])
    elif kind == "json_big":
        body = kit.memo("24mb-json", lambda: b'{"a": "' + b"A" * (24 * MB) + b'"}')
        content_type = "application/json"
    else:
        body, content_type = b"[" * 100_000 + b"]" * 100_000, "application/json"
    codes = frozenset({"METHOD_NOT_ALLOWED", "NOT_FOUND", "PHOTO_TOO_LARGE"}) | MEDIA_TYPE
    return Case(
        "wrong_endpoints",
        f"{method} {path[:30]} {kind}",
        body,
        content_type,
        codes=codes,
        method=method,
        path=path,
    )
