/* The sandbox dashboard: live updates and confirmations. No inline script anywhere
   (the page's Content-Security-Policy allows this file only).

   Every poll_ms the page asks live.json for the sandbox's state version and time. The
   time is written into the clock at once; when the version changed, the page fetches
   itself again and swaps in each element marked data-live (same id), leaving forms the
   user may be typing in alone. Failures are shown and retried at the next tick. */
(function () {
  "use strict";
  var body = document.body;
  var liveUrl = body.getAttribute("data-live-url");
  var pollMs = parseInt(body.getAttribute("data-poll-ms"), 10) || 2000;
  var version = body.getAttribute("data-version");
  var busy = false;

  function setStatus(text, ok) {
    var status = document.getElementById("live-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("Live--off", !ok);
  }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && typeof text === "string" && el.textContent !== text) el.textContent = text;
  }

  function swapLiveRegions(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var next = el.id && fresh.getElementById(el.id);
      if (next && next.innerHTML !== el.innerHTML) el.innerHTML = next.innerHTML;
    });
    return fresh.body ? fresh.body.getAttribute("data-version") : null;
  }

  function refresh() {
    return fetch(window.location.href, {cache: "no-store", credentials: "same-origin"})
      .then(function (answer) {
        if (!answer.ok) throw new Error("page answered " + answer.status);
        return answer.text();
      })
      .then(function (html) {
        var fresh = swapLiveRegions(html);
        if (fresh) version = fresh;
        body.setAttribute("data-version", version);
      });
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(liveUrl, {cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (answer) {
        if (!answer.ok) throw new Error("live.json answered " + answer.status);
        return answer.json();
      })
      .then(function (state) {
        setText("clock-now", state.clock.text);
        setText("clock-offset", state.clock.offset_text);
        setStatus("live", true);
        if (state.version !== version) return refresh();
      })
      .catch(function () { setStatus("offline: retrying", false); })
      .then(function () { busy = false; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    var button = form.querySelector("button[data-busy]");
    if (button) {
      button.textContent = button.getAttribute("data-busy");
      button.setAttribute("aria-busy", "true");
    }
  });

  if (liveUrl) window.setInterval(poll, pollMs);
})();
