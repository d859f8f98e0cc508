@webhooks @sandbox_only
Feature: An event delivered more than once makes one order
  Stripe delivers at least once and in no particular order. However many times an event
  arrives, and in whatever order, a paid lot has exactly one order and one transaction.

  Scenario: Stripe sends an event again after it was processed
    Given Alice Martin has won lot 17 for $342.00
    And the buyer has paid for the lot
    When Stripe sends the "checkout.session.completed" event for the lot again
    Then the lot is paid
    And the repeated delivery is acknowledged without being processed again

  Scenario: Stripe sends every event three times and out of order
    Given Stripe sends every event three times and out of order
    And Kenji Watanabe has won lot 305 for $186.75
    When the buyer pays for the lot at Stripe
    Then the lot is paid
    And the buyer is sent exactly one receipt
    And every copy Stripe sent is acknowledged
    And every event from Stripe is processed once
