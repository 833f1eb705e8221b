/*
 * genlook-django: the storefront try-on widget.
 *
 * Plain JavaScript, no build step, no inline script (CSP-friendly: the page needs
 * script-src 'self' and img-src 'self' blob:). Every [data-genlook-tryon] element
 * rendered by {% genlook_tryon_button %} becomes a button and a modal dialog:
 * pick a photo (or take one, or reuse the last), agree, upload (downscaled in the
 * browser first), follow the progress, see the result before/after, download it,
 * try again, share it (a link that works for a while) or delete it. A finished look
 * is shown again when the dialog reopens or the page reloads (no new try-on); consent is
 * asked once per session. A file that is empty, not an image or too large is refused here,
 * before any upload, with the server's own message (data-checks).
 *
 * Strings come from Django's JS catalog (genlook:jsi18n), loaded before this file.
 */
(function () {
  "use strict";

  var gettext = window.gettext || function (s) { return s; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\(\w+\)s/g, function (m) { return String(obj[m.slice(2, -2)]); });
  };

  /* A message for every code the storefront API can answer. */
  function messageFor(code) {
    var messages = {
      CONSENT_REQUIRED: gettext("Please tick the box to agree to the use of your photo."),
      PHOTO_REQUIRED: gettext("Please choose a photo of yourself."),
      PHOTO_TOO_LARGE: gettext("This photo is too large. Please choose a smaller one."),
      PHOTO_TOO_MANY_PIXELS: gettext("This photo has too many pixels. Please choose a smaller one."),
      PHOTO_TOO_SMALL: gettext("This photo is too small. Please choose a larger one."),
      PHOTO_UNSUPPORTED_TYPE: gettext("This file is not a photo we can use. Please choose a JPEG, PNG or WebP image."),
      PHOTO_HEIC_UNSUPPORTED: gettext("HEIC photos are not supported here. Please choose a JPEG or PNG."),
      PHOTO_INVALID: gettext("This photo could not be read. Please choose another one."),
      PHOTO_REJECTED: gettext("This photo could not be used. Please choose a clear photo of yourself, facing the camera."),
      PHOTO_DELETED: gettext("Your photo was deleted. Please choose a photo again."),
      PRODUCT_UNAVAILABLE: gettext("This product cannot be tried on right now."),
      UPLOAD_QUOTA_EXCEEDED: gettext("You have uploaded a lot of photos in a short time. Please wait a few minutes, or use your last photo."),
      IP_UPLOAD_QUOTA_EXCEEDED: gettext("You have uploaded a lot of photos in a short time. Please wait a few minutes, or use your last photo."),
      TRY_ON_QUOTA_EXCEEDED: gettext("You have reached your try-on limit for now. Please come back later."),
      IP_TRY_ON_QUOTA_EXCEEDED: gettext("You have reached your try-on limit for now. Please come back later."),
      UPLOAD_BUDGET_EXCEEDED: gettext("The fitting room is busy right now. Please try again in a moment."),
      UPLOADS_BUSY: gettext("The fitting room is busy right now. Please try again in a moment."),
      DAILY_BUDGET_EXCEEDED: gettext("Virtual try-on is very popular today. Please come back tomorrow."),
      TRY_ON_UNAVAILABLE: gettext("Virtual try-on is temporarily unavailable. Please try again later."),
      SERVICE_BUSY: gettext("The fitting room is busy right now. Please try again in a moment."),
      TIMED_OUT: gettext("This is taking longer than it should. Please try again."),
      TRY_ON_FAILED: gettext("Something went wrong with this try-on. Please try again."),
      NOT_FOUND: gettext("This try-on no longer exists."),
      CSRF_FAILED: gettext("Your session has expired. Please reload the page and try again."),
      NETWORK: gettext("You seem to be offline. Please check your connection and try again."),
      SHARE_FAILED: gettext("Could not make a share link. Please try again.")
    };
    return messages[code];
  }

  var PHOTO_CODES = /^PHOTO_/;
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([hidden]), [tabindex]:not([tabindex='-1'])";

  function readCookie(name) {
    if (!name) { return ""; }
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return "";
  }

  /* The first bytes of a file, as the server reads them to tell its format; resolves
     with null when the browser cannot read them (the server still checks). */
  function readHead(file) {
    if (!file.slice || !window.FileReader) { return Promise.resolve(null); }
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () { resolve(new Uint8Array(reader.result)); };
      reader.onerror = function () { resolve(null); };
      reader.readAsArrayBuffer(file.slice(0, 32));
    });
  }

  function ascii(bytes, start, end) {
    return String.fromCharCode.apply(null, Array.prototype.slice.call(bytes, start, end));
  }

  /* The server's signatures (services/tryons/photos.py, sniff_format). */
  function sniff(head, heifBrands) {
    if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) { return "jpeg"; }
    if (ascii(head, 0, 8) === "\x89PNG\r\n\x1a\n") { return "png"; }
    if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") { return "webp"; }
    if (ascii(head, 4, 8) === "ftyp" && heifBrands.indexOf(ascii(head, 8, 12)) >= 0) { return "heif"; }
    return null;
  }

  function onPhone() {
    var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    return Boolean(navigator.share) && (coarse || navigator.maxTouchPoints > 0);
  }

  /* Downscale a photo in the browser: upright (EXIF applied), JPEG, long edge <= maxEdge.
     Resolves with a Blob, or null when the browser cannot decode it (HEIC on most
     desktops): the original is then sent as it is. */
  function downscale(file, maxEdge) {
    if (!window.createImageBitmap || !document.createElement("canvas").toBlob) {
      return Promise.resolve(null);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var context = canvas.getContext("2d");
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob); }, "image/jpeg", 0.9);
      });
    }).catch(function () { return null; });
  }

  function TryOn(root) {
    this.root = root;
    this.data = root.dataset;
    this.dialog = root.querySelector("[data-genlook-dialog]");
    this.opener = root.querySelector("[data-genlook-open]");
    this.photoBlob = null;     // what will be uploaded
    this.previewUrl = null;    // object URL of it
    this.reuse = null;         // the last photo, from /me
    this.useLast = false;
    this.current = null;       // the try-on being followed, or the look shown
    this.consentGiven = false; // this session agreed already (from /me)
    this.checks = {};
    try { this.checks = JSON.parse(this.data.checks || "{}"); } catch (e) { this.checks = {}; }
    this.timers = [];
    this.bind();
  }

  TryOn.prototype.$ = function (name) {
    return this.root.querySelector("[data-genlook-" + name + "]");
  };

  TryOn.prototype.bind = function () {
    var self = this;
    var on = function (name, event, handler) {
      var el = self.$(name);
      if (el) { el.addEventListener(event, handler.bind(self)); }
    };
    on("open", "click", this.open);
    on("close", "click", this.close);
    on("pick", "click", function () { this.$("file").click(); });
    on("camera", "click", function () { this.$("file-camera").click(); });
    on("change", "click", function () { this.$("file").click(); });
    on("file", "change", this.onFile);
    on("file-camera", "change", this.onFile);
    on("reuse", "click", this.onReuse);
    on("consent", "change", function () { this.hidePickError(); });
    on("submit", "click", this.submit);
    on("retry", "click", this.retry);
    on("again", "click", this.again);
    on("delete", "click", this.remove);
    on("share", "click", this.share);
    on("copy", "click", this.copyLink);
    on("unshare", "click", this.unshare);
    Array.prototype.forEach.call(this.root.querySelectorAll("[data-genlook-show]"), function (button) {
      button.addEventListener("click", function () { self.show(button.getAttribute("data-genlook-show")); });
      button.addEventListener("keydown", function (event) {
        if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
          event.preventDefault();
          var next = button.getAttribute("data-genlook-show") === "after" ? "before" : "after";
          self.show(next);
          self.root.querySelector("[data-genlook-show='" + next + "']").focus();
        }
      });
    });
    this.dialog.addEventListener("keydown", this.trapFocus.bind(this));
    this.dialog.addEventListener("close", this.onClosed.bind(this));
    this.dialog.addEventListener("click", function (event) {
      if (event.target === self.dialog) { self.close(); }  // a click on the backdrop
    });
  };

  /* -- opening and closing -------------------------------------------------------- */

  TryOn.prototype.open = function () {
    if (typeof this.dialog.showModal === "function") {
      this.dialog.showModal();
    } else {
      this.dialog.setAttribute("open", "");
    }
    document.documentElement.classList.add("genlook-open");
    if (this.current && !this.current.final) {
      this.step("progress");
      this.poll();
    } else if (!this.current) {
      this.step("pick");
      this.loadMe(true);
    }
    var title = this.$("title");
    if (title) { title.focus(); }
  };

  TryOn.prototype.close = function () {
    if (typeof this.dialog.close === "function") {
      this.dialog.close();
    } else {
      this.dialog.removeAttribute("open");
      this.onClosed();
    }
  };

  TryOn.prototype.onClosed = function () {
    this.stopTimers();
    document.documentElement.classList.remove("genlook-open");
    if (this.current && this.current.final) { this.current = null; }
    if (this.opener) { this.opener.focus(); }
  };

  TryOn.prototype.trapFocus = function (event) {
    if (event.key !== "Tab") { return; }
    var items = Array.prototype.filter.call(this.dialog.querySelectorAll(FOCUSABLE), function (el) {
      return el.offsetParent !== null || el === document.activeElement;
    });
    if (!items.length) { return; }
    var first = items[0];
    var last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !this.dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  TryOn.prototype.step = function (name) {
    Array.prototype.forEach.call(this.root.querySelectorAll("[data-step]"), function (section) {
      section.hidden = section.getAttribute("data-step") !== name;
    });
    this.dialog.setAttribute("data-genlook-step", name);
  };

  /* -- the shopper's context: last photo, availability ----------------------------- */

  /* showLook: show the shopper's last finished look for this product, if any. */
  TryOn.prototype.loadMe = function (showLook) {
    var self = this;
    var url = this.data.me + "?product=" + encodeURIComponent(this.data.product);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (me) {
        if (!me) { return; }
        self.setConsentGiven(Boolean(me.consent_given));
        if (showLook && me.look && !self.current && self.dialog.open) {
          self.showLook(me.look);
          return;
        }
        if (!me.available) {
          self.fail("TRY_ON_UNAVAILABLE");
          return;
        }
        self.reuse = me.photo;
        var button = self.$("reuse");
        if (button && me.photo) {
          self.$("reuse-thumb").src = me.photo.url;
          button.hidden = false;
        }
      })
      .catch(function () { /* offline: the submit says so */ });
  };

  /* -- choosing a photo --------------------------------------------------------------- */

  TryOn.prototype.onFile = function (event) {
    var input = event.target;
    var file = input.files && input.files[0];
    input.value = "";
    if (!file) { return; }
    this.hidePickError();
    var self = this;
    var checks = this.checks.messages ? this.checks : null;
    var maxBytes = checks ? checks.max_bytes : parseInt(this.data.maxBytes, 10);
    var refuse = function (name, code) {
      self.pickError(code, checks ? checks.messages[name].message : null);
    };
    if (file.size === 0) {
      refuse("empty", "PHOTO_INVALID");
      return;
    }
    readHead(file).then(function (head) {
      var kind = head && checks ? sniff(head, checks.heif_brands || []) : "unknown";
      if (!kind) {
        refuse("type", "PHOTO_UNSUPPORTED_TYPE");
        return null;
      }
      if (checks && kind !== "unknown" && checks.formats.indexOf(kind) < 0) {
        refuse("heif", "PHOTO_HEIC_UNSUPPORTED");
        return null;
      }
      return downscale(file, parseInt(self.data.maxEdge, 10)).then(function (blob) {
        var chosen = blob || file;
        if (chosen.size > maxBytes) {
          refuse("size", "PHOTO_TOO_LARGE");
          return;
        }
        self.setPhoto(chosen, blob ? URL.createObjectURL(blob) : null);
      });
    });
  };

  TryOn.prototype.onReuse = function () {
    if (!this.reuse) { return; }
    this.hidePickError();
    this.useLast = true;
    this.photoBlob = null;
    this.showPreview(this.reuse.url);
  };

  TryOn.prototype.setPhoto = function (blob, url) {
    if (this.previewUrl) { URL.revokeObjectURL(this.previewUrl); }
    this.previewUrl = url;
    this.photoBlob = blob;
    this.useLast = false;
    this.showPreview(url);
  };

  TryOn.prototype.showPreview = function (url) {
    var wrap = this.$("photo");
    var img = this.$("preview");
    if (url) {
      img.src = url;
      wrap.hidden = false;
      this.$("choose").hidden = true;
    } else {  // a photo the browser cannot show (HEIC): it is still sent
      wrap.hidden = true;
    }
    this.$("submit").hidden = false;
    var consent = this.$("consent");
    (consent.checked || this.consentGiven ? this.$("submit") : consent).focus();
  };

  /* The message given (the server's own words) wins over the widget's for the code. */
  TryOn.prototype.pickError = function (code, message) {
    var el = this.$("pick-error");
    el.textContent = message || messageFor(code) || messageFor("TRY_ON_FAILED");
    el.hidden = false;
  };

  /* Consent given earlier in this session (same version): no box to tick again. */
  TryOn.prototype.setConsentGiven = function (given) {
    this.consentGiven = given;
    this.$("consent-box").hidden = given;
    this.$("consent-given").hidden = !given;
  };

  TryOn.prototype.hidePickError = function () {
    ["pick-error", "note"].forEach(function (name) {
      var el = this.$(name);
      el.hidden = true;
      el.textContent = "";
    }, this);
  };

  /* -- submitting and following ------------------------------------------------------- */

  TryOn.prototype.csrfToken = function () {
    return readCookie(this.data.csrfCookie) || this.data.csrfToken;
  };

  TryOn.prototype.submit = function () {
    if (!this.photoBlob && !this.useLast) {
      this.pickError("PHOTO_REQUIRED");
      this.$("pick").focus();
      return;
    }
    if (!this.$("consent").checked && !this.consentGiven) {
      this.pickError("CONSENT_REQUIRED");
      this.$("consent").focus();
      return;
    }
    var form = new FormData();
    form.append("product", this.data.product);
    if (this.$("consent").checked) { form.append("consent", "true"); }
    if (this.photoBlob) {
      form.append("photo", this.photoBlob, this.photoBlob.name || "photo.jpg");
    } else {
      form.append("reuse_photo", "true");
    }
    var before = this.previewUrl || (this.useLast && this.reuse ? this.reuse.url : "");
    this.$("progress-img").src = before;
    this.$("before").src = before;
    this.started = Date.now();
    this.current = { id: null, final: false };
    this.step("progress");
    this.progress(0, gettext("Uploading your photo…"));
    this.tick();

    var self = this;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", this.data.api);
    xhr.setRequestHeader(this.data.csrfHeader || "X-CSRFToken", this.csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.withCredentials = true;
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { self.progress(25 * event.loaded / event.total); }
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 202 && body) {
        self.setConsentGiven(true);  // the session remembers it
        self.update(body);
      } else if (body && body.code) {
        self.fail(body.code, body.message);
      } else {  // no answer of ours: a proxy's page (nginx's 413, a 502...)
        self.fail(xhr.status === 413 ? "PHOTO_TOO_LARGE" : xhr.status === 0 ? "NETWORK" : "SERVICE_BUSY");
      }
    });
    xhr.addEventListener("error", function () { self.fail("NETWORK"); });
    xhr.send(form);
  };

  TryOn.prototype.update = function (tryOn) {
    if (!this.current) { return; }
    this.current.id = tryOn.id;
    this.current.url = this.data.api + tryOn.id + "/";
    this.current.data = tryOn;
    if (tryOn.status === "completed") {
      this.current.final = true;
      this.showResult(tryOn);
    } else if (tryOn.status === "failed") {
      this.current.final = true;
      this.fail(tryOn.error && tryOn.error.code, tryOn.error && tryOn.error.message);
    } else {
      this.progress(null, this.statusText());
      // 0 after a status request that already waited on the server (?wait=): ask again now.
      this.schedule(typeof tryOn.poll_after_ms === "number" ? tryOn.poll_after_ms : 1000);
    }
  };

  TryOn.prototype.statusText = function () {
    var status = this.current && this.current.data ? this.current.data.status : "received";
    if (status !== "pending") { return gettext("Sending your photo to the fitting room…"); }
    if (Date.now() - this.started > 20000) {
      return gettext("Almost there: adding the finishing touches…");
    }
    return gettext("Creating your look…");
  };

  TryOn.prototype.schedule = function (delay) {
    var self = this;
    this.timers.push(window.setTimeout(function () { self.poll(); }, delay));
  };

  TryOn.prototype.poll = function () {
    var self = this;
    if (!this.current || !this.current.url || this.current.final) { return; }
    // Following a try-on stops after data-max-wait-ms whatever the server says (a minute
    // past its RESULT_TIMEOUT, after which it fails any try-on still open).
    var maxWait = parseInt(this.data.maxWaitMs, 10) || 660000;
    if (Date.now() - this.started > maxWait) {
      this.fail("TIMED_OUT");
      return;
    }
    // The server holds the answer until the status changes (at most data-status-wait
    // seconds): the result is seen as soon as it is stored, with few requests.
    var wait = parseFloat(this.data.statusWait) || 0;
    var url = wait > 0 ? this.current.url + "?wait=" + encodeURIComponent(String(wait)) : this.current.url;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (!self.dialog.open) { return; }
        if (answer.ok) {
          self.update(answer.body);
        } else {
          self.fail(answer.body && answer.body.code, answer.body && answer.body.message);
        }
      })
      .catch(function () { if (self.dialog.open) { self.schedule(2000); } });
    this.tick();
  };

  TryOn.prototype.tick = function () {
    var self = this;
    window.clearInterval(this.clock);
    var render = function () {
      var seconds = Math.floor((Date.now() - self.started) / 1000);
      self.$("elapsed").textContent = interpolate(gettext("%(seconds)s s elapsed"), { seconds: seconds }, true);
      if (self.current && self.current.data) {
        self.progress(null, self.statusText());
      }
    };
    render();
    this.clock = window.setInterval(render, 1000);
  };

  /* The bar: the upload fills the first quarter, then it eases towards 95 %. */
  TryOn.prototype.progress = function (value, status) {
    var bar = this.$("bar");
    if (value === null || value === undefined) {
      var seconds = (Date.now() - this.started) / 1000;
      value = Math.max(this.lastProgress || 0, 25 + 70 * (1 - Math.exp(-seconds / 10)));
    }
    this.lastProgress = value;
    bar.setAttribute("aria-valuenow", String(Math.round(value)));
    bar.style.setProperty("--genlook-progress", value.toFixed(1) + "%");
    var line = this.$("status");
    if (status && line.textContent !== status) { line.textContent = status; }
  };

  TryOn.prototype.stopTimers = function () {
    this.timers.forEach(window.clearTimeout);
    this.timers = [];
    window.clearInterval(this.clock);
  };

  /* -- the outcome ------------------------------------------------------------------ */

  /* A look finished earlier (reopened dialog, reloaded page): shown as it was. */
  TryOn.prototype.showLook = function (look) {
    this.current = { id: look.id, url: this.data.api + look.id + "/", final: true, data: look };
    this.started = Date.now();
    this.showResult(look, true);
  };

  TryOn.prototype.showResult = function (tryOn, earlier) {
    this.stopTimers();
    this.hideShare();
    this.progress(100);
    var self = this;
    var img = this.$("result");
    img.onload = function () {
      self.step("result");
      self.show("after");
      self.$("result-title").focus();
    };
    img.onerror = function () {
      if (earlier) {  // its result went meanwhile: start afresh
        self.current = null;
        self.step("pick");
        return;
      }
      self.fail("TRY_ON_FAILED");
    };
    img.src = tryOn.result_url;
    if (tryOn.photo_url) { this.$("before").src = tryOn.photo_url; }
    this.$("download").href = tryOn.download_url;
    this.$("took").textContent = interpolate(
      gettext("Ready in %(seconds)s s."), { seconds: Math.round(tryOn.elapsed_seconds) }, true);
  };

  TryOn.prototype.show = function (which) {
    this.$("frame").setAttribute("data-showing", which);
    Array.prototype.forEach.call(this.root.querySelectorAll("[data-genlook-show]"), function (button) {
      var on = button.getAttribute("data-genlook-show") === which;
      button.setAttribute("aria-checked", on ? "true" : "false");
      button.tabIndex = on ? 0 : -1;
    });
  };

  TryOn.prototype.fail = function (code, serverMessage) {
    this.stopTimers();
    if (this.current) { this.current.final = true; }
    this.lastError = code || "TRY_ON_FAILED";
    var el = this.$("error");
    // The server's message is translated and safe to show, and more precise (quotas say
    // their limit); the widget's own covers what the server did not say.
    el.textContent = serverMessage || messageFor(this.lastError) || messageFor("TRY_ON_FAILED");
    this.step("error");
    var retry = this.$("retry");
    retry.hidden = this.lastError === "TRY_ON_UNAVAILABLE" || this.lastError === "DAILY_BUDGET_EXCEEDED";
    el.focus();
  };

  TryOn.prototype.retry = function () {
    this.current = null;
    if (PHOTO_CODES.test(this.lastError || "")) { this.resetPhoto(); }
    this.step("pick");
    this.$(this.photoBlob || this.useLast ? "submit" : "pick").focus();
  };

  TryOn.prototype.again = function () {
    this.current = null;
    this.hideShare();
    this.resetPhoto();
    this.step("pick");
    this.loadMe(false);
    this.$("pick").focus();
  };

  TryOn.prototype.resetPhoto = function () {
    if (this.previewUrl) { URL.revokeObjectURL(this.previewUrl); }
    this.previewUrl = null;
    this.photoBlob = null;
    this.useLast = false;
    this.$("photo").hidden = true;
    this.$("choose").hidden = false;
    this.$("submit").hidden = true;
  };

  TryOn.prototype.remove = function () {
    var self = this;
    var url = this.current && this.current.url;
    if (!url) { return; }
    fetch(url, { method: "DELETE", credentials: "same-origin", headers: this.jsonHeaders() })
      .then(function (response) {
        if (!response.ok && response.status !== 404) { throw new Error(String(response.status)); }
        self.reuse = null;
        self.$("reuse").hidden = true;
        self.again();
        var note = self.$("note");
        note.textContent = gettext("Your try-on and your photo were deleted.");
        note.hidden = false;
      })
      .catch(function () { self.fail("NETWORK"); });
  };

  /* -- sharing a look ----------------------------------------------------------------- */

  TryOn.prototype.jsonHeaders = function () {
    var headers = { Accept: "application/json" };
    headers[this.data.csrfHeader || "X-CSRFToken"] = this.csrfToken();
    return headers;
  };

  TryOn.prototype.shareNote = function (text) {
    var note = this.$("share-note");
    note.textContent = text || "";
    note.hidden = !text;
  };

  TryOn.prototype.hideShare = function () {
    this.shared = null;
    this.$("share-box").hidden = true;
    this.shareNote("");
  };

  /* A link for this look: the phone's share sheet (Web Share API), else a link to copy. */
  TryOn.prototype.share = function () {
    var self = this;
    if (!this.current || !this.current.url) { return; }
    var button = this.$("share");
    button.disabled = true;
    this.shareNote("");
    fetch(this.current.url + "shares/", { method: "POST", credentials: "same-origin", headers: this.jsonHeaders() })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        button.disabled = false;
        if (!answer.ok) {
          self.shareNote((answer.body && answer.body.message) || messageFor("SHARE_FAILED"));
          return;
        }
        self.showShare(answer.body);
        if (onPhone()) {
          navigator.share({ title: self.$("title").textContent, url: answer.body.url })
            .catch(function () { /* dismissed: the link stays below */ });
        }
      })
      .catch(function () {
        button.disabled = false;
        self.shareNote(messageFor("NETWORK"));
      });
  };

  TryOn.prototype.showShare = function (link) {
    this.shared = link;
    this.$("share-url").value = link.url;
    this.$("share-expiry").textContent = interpolate(
      gettext("This link works until %(date)s."),
      { date: new Date(link.expires_at).toLocaleString() }, true);
    this.$("share-box").hidden = false;
    this.$("copy").focus();  // scrolls the link into view, below the result
  };

  TryOn.prototype.copyLink = function () {
    var self = this;
    var input = this.$("share-url");
    var copied = function () { self.shareNote(gettext("Link copied.")); };
    var byHand = function () {
      input.focus();
      input.select();
      var done = false;
      try { done = document.execCommand("copy"); } catch (e) { done = false; }
      self.shareNote(done ? gettext("Link copied.") : gettext("Select the link and copy it."));
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(copied, byHand);
    } else {
      byHand();
    }
  };

  TryOn.prototype.unshare = function () {
    var self = this;
    var link = this.shared;
    if (!link) { return; }
    fetch(link.revoke_url, { method: "DELETE", credentials: "same-origin", headers: this.jsonHeaders() })
      .then(function (response) {
        if (!response.ok && response.status !== 404) { throw new Error(String(response.status)); }
        self.hideShare();
        self.shareNote(gettext("Sharing stopped: the link no longer works."));
      })
      .catch(function () { self.shareNote(messageFor("NETWORK")); });
  };

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-genlook-tryon]"), function (root) {
      if (!root.genlookTryOn) { root.genlookTryOn = new TryOn(root); }
    });
  }

  // For pages that insert buttons later (a headless front end, docs/headless.md):
  // window.genlookTryOn.init() sets up every button not set up yet.
  window.genlookTryOn = { init: init };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
