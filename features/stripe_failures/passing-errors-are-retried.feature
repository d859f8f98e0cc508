@stripe_failures @sandbox_only
Feature: Stripe's passing errors are retried without the buyer noticing
  When Stripe answers a server error or asks the marketplace to slow down, the request is
  tried again after a backoff (never sooner than Stripe's Retry-After) with the same
  idempotency key, so the buyer reaches Stripe's page and only one Checkout Session exists.

  Scenario: Stripe answers two server errors and the buyer still pays
    Given Alice Martin has won lot 17 for $342.00
    And Stripe answers the next 2 requests to start a payment with a server error
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    And the lot is paid
    And Stripe's 2 failures were retried and one Checkout Session was created

  Scenario: Stripe rate-limits the marketplace and the buyer still pays
    Given Olusegun Adeyemi has won lot 58 for $129.00
    And Stripe rate-limits the next request to start a payment, asking to wait 2 seconds
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    And the lot is paid
    And the marketplace waited 2 seconds before asking Stripe again
