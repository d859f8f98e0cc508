@webhooks @sandbox_only
Feature: A service that dies while handling Stripe's events loses nothing
  A delivery cut off half-way is not acknowledged, so Stripe delivers it again; the
  second run finds the work done or finishes it. Nothing is lost and nothing is doubled.

  Scenario: The service dies right after recording a payment and nothing is lost or doubled
    Given Priya Raman has won lot 412 for $275.00
    And the service will crash right after it next records a payment
    When the buyer pays for the lot at Stripe
    Then Stripe's delivery of the payment fails as the service dies
    When Stripe delivers it again at its next retry
    Then the lot is paid
    And the buyer is sent exactly one receipt
    And every event from Stripe is processed once

  Scenario: Restarting the service in the middle of payments loses nothing
    Given these buyers have won lots:
      | buyer          | lot | amount  |
      | Alice Martin   | 101 | $342.00 |
      | Bernard Okafor | 102 | $129.50 |
      | Chloé Dubois   | 103 | $88.00  |
      | Diego Ramírez  | 104 | $415.75 |
    And each buyer has started paying
    When the buyers pay while the service is killed and restarted
    And Stripe retries every delivery that failed
    Then every lot is paid exactly once
    And every event from Stripe is processed once
