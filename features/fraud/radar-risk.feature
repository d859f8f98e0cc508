@fraud
Feature: Stripe Radar's risk rating
  Radar blocks the highest-risk payments at Stripe. A payment it rates elevated goes
  through, but it is held in the review queue until an admin clears it.

  Scenario: A payment Radar rates elevated risk is held until an admin clears it
    Given Marcus Webb has won lot 88 for $275.00
    And the buyer is signed in
    When the buyer pays for the lot with a card Radar sees as elevated risk
    Then the buyer sees the payment paid
    And the payment is held for an admin's review, flagged for Radar's elevated risk rating
    When an admin clears the payment in the review queue
    Then the payment is cleared and leaves the review queue

  Scenario: Radar blocks a highest-risk card at Stripe
    Given Marcus Webb has won lot 89 for $275.00
    And the buyer is signed in
    When the buyer pays for the lot with a card Radar blocks as highest risk
    Then Stripe's page says "Your card was declined."
    And Stripe recorded the attempt as blocked by Radar
    And no order exists for the lot
