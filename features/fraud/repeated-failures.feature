@fraud
Feature: Repeated failed attempts on a lot
  More than two failed attempts before a payment hold the payment for an admin's
  review. After four attempts the buyer cannot try again.

  Scenario: A payment after three declined attempts is held for review
    Given Dmitri Volkov has won lot 52 for $420.00
    And the buyer is signed in
    And the buyer's card was declined on 3 attempts
    When the buyer pays with a Visa card
    Then the buyer sees the payment paid
    And the payment is held for an admin's review, flagged for repeated failed attempts

  Scenario: A buyer declined on every allowed attempt cannot try again
    Given Dmitri Volkov has won lot 53 for $420.00
    And the buyer is signed in
    When the buyer's card is declined on 4 attempts
    Then the buyer has no payment attempts left
    And no order exists for the lot
