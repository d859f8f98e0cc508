@orders
Feature: A canceled order for an unpaid lot
  The winner has 24 hours to pay. When the window closes without a payment, the lot's
  order is canceled and the buyer is told by email.

  @sandbox_only
  Scenario: The order is canceled when the payment window closes unpaid
    Given Ravi Iyer has won lot 403 for $58.00
    And the buyer is signed in
    When 24 hours pass
    Then the order is canceled
    And no payment was taken for the lot
    And the buyer is emailed that the payment window for lot 403 closed
    And the buyer can no longer pay for lot 403

  @sandbox_only
  Scenario: A declined payment does not keep the order open past the window
    Given Ravi Iyer has won lot 404 for $58.00
    And the buyer is signed in
    When the buyer pays for the lot with a card with insufficient funds
    And 24 hours pass
    Then the order is canceled
    And no payment was taken for the lot
    And Stripe can no longer take a payment for the lot
    And the buyer can no longer pay for lot 404
