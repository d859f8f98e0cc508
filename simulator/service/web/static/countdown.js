// Live countdowns to each payment window's end. The deadline and the server's "now"
// come from the page, so the countdown follows the service's clock (moved in tests).
(function () {
  "use strict";
  var serverNow = Number(document.body.dataset.serverNow || 0);
  var loadedAt = Date.now() / 1000;

  function now() {
    return serverNow ? serverNow + (Date.now() / 1000 - loadedAt) : Date.now() / 1000;
  }

  function format(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = Math.floor(seconds % 60);
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
  }

  function closeActions(element) {
    var scope = element.closest("[data-testid=winning], [data-testid=payment-page]");
    if (!scope) return;
    scope.querySelectorAll("[data-closes-with-window]").forEach(function (action) {
      action.classList.add("is-disabled");
      if ("disabled" in action) action.disabled = true;
      action.setAttribute("aria-disabled", "true");
    });
  }

  function tick() {
    document.querySelectorAll(".Countdown[data-deadline]").forEach(function (element) {
      var left = Math.ceil(Number(element.dataset.deadline) - now());
      element.dataset.secondsLeft = String(Math.max(0, left));
      if (left <= 0) {
        element.textContent = element.dataset.closedText || "Closed";
        element.classList.add("is-closed");
        closeActions(element);
      } else {
        element.textContent = format(left);
        element.classList.toggle("is-urgent", left < 3600);
      }
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
