// While a payment is being confirmed, poll its JSON status and reload once it changes
// (the webhook usually lands a moment after Stripe's redirect).
(function () {
  "use strict";
  var page = document.querySelector("[data-testid=payment-page][data-poll-url]");
  if (!page) return;
  var initial = page.dataset.status;
  var tries = 0;

  function poll() {
    tries += 1;
    fetch(page.dataset.pollUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.status !== initial) {
          window.location.reload();
        } else if (tries < 150) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { if (tries < 150) window.setTimeout(poll, 2000); });
  }

  window.setTimeout(poll, 1000);
})();
