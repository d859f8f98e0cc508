// The hosted checkout page: formats and checks the card fields as Stripe Checkout does,
// then submits them to the sandbox, which checks them again and charges the test card.
(function () {
  "use strict";
  const app = document.querySelector(".App");
  if (!app) return;
  const form = document.getElementById("payment-form");
  const button = form.querySelector("[data-testid='hosted-payment-submit-button']");
  const paymentError = document.getElementById("payment-error");
  const field = (id) => document.getElementById(id);
  const digits = (value) => (value || "").replace(/\D/g, "");
  const isAmex = (number) => /^3[47]/.test(number);
  const POSTAL_COUNTRIES = new Set(["US", "GB", "CA", "AU", "NZ", "IE"]);

  function luhn(number) {
    let total = 0;
    for (let i = 0; i < number.length; i++) {
      let digit = Number(number[number.length - 1 - i]);
      if (i % 2 === 1) { digit *= 2; if (digit > 9) digit -= 9; }
      total += digit;
    }
    return total % 10 === 0;
  }

  function formatNumber(value) {
    const number = digits(value).slice(0, 19);
    const groups = isAmex(number) ? [4, 6, 5] : [4, 4, 4, 4, 3];
    const parts = [];
    let start = 0;
    for (const size of groups) {
      if (start >= number.length) break;
      parts.push(number.slice(start, start + size));
      start += size;
    }
    return parts.join(" ");
  }

  function formatExpiry(value) {
    let raw = digits(value);
    if (raw.length === 1 && Number(raw) > 1) raw = "0" + raw;
    if (raw.length <= 2) return raw;
    return raw.slice(0, 2) + " / " + raw.slice(2, 4);
  }

  function showError(id, message) {
    const box = field(id + "-error");
    const input = field(id);
    if (box) box.textContent = message || "";
    if (input) input.classList.toggle("is-invalid", Boolean(message));
    if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function checkFields() {
    const errors = {};
    const number = digits(field("cardNumber").value);
    const wanted = isAmex(number) ? 15 : 16;
    if (number.length < wanted) errors.cardNumber = "Your card number is incomplete.";
    else if (!luhn(number)) errors.cardNumber = "Your card number is invalid.";
    const expiry = digits(field("cardExpiry").value);
    if (expiry.length < 4) errors.cardExpiry = "Your card's expiration date is incomplete.";
    else {
      const month = Number(expiry.slice(0, 2));
      const year = 2000 + Number(expiry.slice(2, 4));
      const now = new Date();
      if (month < 1 || month > 12) errors.cardExpiry = "Your card's expiration date is invalid.";
      else if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1))
        errors.cardExpiry = "Your card's expiration year is in the past.";
    }
    const cvc = digits(field("cardCvc").value);
    if (cvc.length < (isAmex(number) ? 4 : 3)) errors.cardCvc = "Your card's security code is incomplete.";
    if (!field("billingName").value.trim()) errors.billingName = "Your name is required.";
    const email = field("email");
    if (!email.readOnly && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.value.trim()))
      errors.email = email.value.trim() ? "Your email is invalid." : "Your email is incomplete.";
    if (POSTAL_COUNTRIES.has(field("billingCountry").value) && !field("billingPostalCode").value.trim())
      errors.billingPostalCode = "Your postal code is incomplete.";
    return errors;
  }

  function showErrors(errors) {
    for (const id of ["email", "cardNumber", "cardExpiry", "cardCvc", "billingName", "billingPostalCode"])
      showError(id, errors[id]);
  }

  function setProcessing(on) {
    button.disabled = on;
    button.classList.toggle("is-processing", on);
    button.querySelector(".SubmitButton-text").hidden = on;
    button.querySelector(".SubmitButton-processing").hidden = !on;
  }

  function showPaymentError(message) {
    paymentError.textContent = message || "";
    paymentError.hidden = !message;
  }

  function togglePostal() {
    const needed = POSTAL_COUNTRIES.has(field("billingCountry").value);
    field("postal-fieldset").hidden = !needed;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body || {}),
    });
    return response.json();
  }

  function handleResult(result) {
    if (result.redirect) { window.location.assign(result.redirect); return; }
    if (result.challenge_url) { openChallenge(result.challenge_url); return; }
    setProcessing(false);
    if (result.field_errors) showErrors(result.field_errors);
    showPaymentError(result.error || "");
    if (result.reload) window.location.reload();
  }

  function openChallenge(url) {
    const modal = document.getElementById("challenge-modal");
    const frame = document.getElementById("challenge-outer-frame");
    frame.src = url;
    modal.hidden = false;
  }

  window.addEventListener("message", async (message) => {
    if (!message.data || message.data.type !== "sandbox-3ds-complete") return;
    document.getElementById("challenge-modal").hidden = true;
    document.getElementById("challenge-outer-frame").src = "about:blank";
    handleResult(await post(app.dataset.confirmUrl.replace(/confirm$/, "finalize")));
  });

  field("cardNumber").addEventListener("input", (e) => { e.target.value = formatNumber(e.target.value); showError("cardNumber", ""); });
  field("cardExpiry").addEventListener("input", (e) => { e.target.value = formatExpiry(e.target.value); showError("cardExpiry", ""); });
  field("cardCvc").addEventListener("input", (e) => { e.target.value = digits(e.target.value).slice(0, 4); showError("cardCvc", ""); });
  field("billingCountry").addEventListener("change", togglePostal);
  togglePostal();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showPaymentError("");
    const errors = checkFields();
    showErrors(errors);
    if (Object.keys(errors).length) return;
    setProcessing(true);
    const body = {};
    for (const id of ["email", "cardNumber", "cardExpiry", "cardCvc", "billingName", "billingCountry", "billingPostalCode"])
      body[id] = field(id).value;
    try {
      handleResult(await post(app.dataset.confirmUrl, body));
    } catch (error) {
      setProcessing(false);
      showPaymentError("Something went wrong. Please try again.");
    }
  });
})();
