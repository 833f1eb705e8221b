/* The watermark settings page: the preview follows the form, before it is saved.
   The preview URL comes from the <img data-genlook-preview> the page renders; no inline
   script. A logo chosen but not saved yet is POSTed (with the form's CSRF token). */
(function () {
  "use strict";

  // The admin's JavaScript catalog is loaded on some pages only: English otherwise.
  function gettext(text) {
    return typeof window.gettext === "function" ? window.gettext(text) : text;
  }

  function init() {
    var img = document.querySelector("img[data-genlook-preview]");
    if (!img) return;
    var form = img.closest("form");
    if (!form) return;
    var status = document.querySelector("[data-genlook-preview-status]");
    var url = img.getAttribute("data-genlook-preview");
    var names = ["position", "scale", "opacity", "margin"];
    var timer = null;
    var sequence = 0;
    var objectUrl = null;

    function field(name) {
      return form.querySelector("[name='" + name + "']");
    }

    function params() {
      var query = new URLSearchParams();
      names.forEach(function (name) {
        var input = field(name);
        if (input && input.value !== "") query.set(name, input.value);
      });
      return query;
    }

    function say(text) {
      if (status) status.textContent = text;
    }

    function show(src, mine) {
      img.onload = function () {
        if (mine !== sequence) return;
        img.setAttribute("data-state", "ready");
        say(gettext("Preview updated."));
      };
      img.onerror = function () {
        if (mine !== sequence) return;
        img.setAttribute("data-state", "error");
        say(gettext("These values cannot be previewed."));
        if (src.indexOf("blob:") === 0) return;
        // The server says what is wrong (e.g. "Width (share of the image): ..."): ask it.
        fetch(src, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? "" : response.text(); })
          .then(function (text) { if (text && mine === sequence) say(text); })
          .catch(function () {});
      };
      img.src = src;
    }

    function refresh() {
      var mine = ++sequence;
      var query = params();
      var logo = field("logo");
      var file = logo && logo.files && logo.files[0];
      var pending = field("pending_logo");
      img.setAttribute("data-state", "loading");
      if (!file) {
        // A logo kept aside after a form error is previewed until another is chosen.
        if (pending && pending.value) query.set("pending", pending.value);
        show(url + "?" + query.toString(), mine);
        return;
      }
      var body = new FormData();
      query.forEach(function (value, key) { body.append(key, value); });
      body.append("logo", file);
      var token = form.querySelector("[name='csrfmiddlewaretoken']");
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: token ? { "X-CSRFToken": token.value } : {}
      })
        .then(function (response) {
          if (response.ok) return response.blob();
          // What is wrong with this logo or these values, as the server says it.
          return response.text().then(function (text) {
            var error = new Error(text);
            error.fromServer = true;
            throw error;
          });
        })
        .then(function (blob) {
          if (mine !== sequence) return;
          if (objectUrl) URL.revokeObjectURL(objectUrl);
          objectUrl = URL.createObjectURL(blob);
          show(objectUrl, mine);
        })
        .catch(function (error) {
          if (mine !== sequence) return;
          img.setAttribute("data-state", "error");
          say(error.fromServer && error.message
            ? error.message
            : gettext("The preview could not be loaded."));
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 250);
    }

    names.concat(["logo"]).forEach(function (name) {
      var input = field(name);
      if (!input) return;
      input.addEventListener("input", later);
      input.addEventListener("change", later);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
