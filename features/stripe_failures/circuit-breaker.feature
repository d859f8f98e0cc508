@stripe_failures @sandbox_only
Feature: While Stripe is down the buyer is asked to come back
  When Stripe keeps failing, the circuit breaker opens: buyers are told at once that
  payments are temporarily unavailable, the admins are alerted, and Stripe is not called
  until the breaker's reset time has passed. Once Stripe is back, buyers can pay.

  Scenario: Stripe keeps failing and the circuit breaker opens
    Given a buyer has won a lot for $342.00
    And Stripe is failing every request to start a payment
    And the buyer is signed in
    When the buyer keeps pressing Pay
    Then the buyer is told "Payments are temporarily unavailable, please try again in a minute"
    And no Checkout Session was created for the lot
    And the admins are alerted that Stripe is failing
    And the marketplace stops calling Stripe while the circuit is open

  Scenario: Once Stripe recovers the buyer can pay
    Given Hannah Schmidt has won lot 96 for $415.00
    And the buyer is signed in
    And Stripe has been failing until the circuit opened
    When Stripe recovers
    And 2 minutes pass
    And the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    And the lot is paid
