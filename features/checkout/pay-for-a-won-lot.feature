@checkout
Feature: Pay for a won lot
  The winner of an auction pays through Stripe Checkout, and the marketplace records
  exactly one order for the lot.

  Scenario: A buyer pays for a won lot with a Visa card
    Given Alice Martin has won lot 17 for $342.00
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    And the lot is paid

  Scenario: A double click on Pay creates one Checkout Session
    Given a buyer has won a lot for $120.00
    And the buyer is signed in
    When the buyer presses Pay twice
    Then only one Stripe Checkout Session was created for the lot

  Scenario: A buyer cannot pay for another buyer's lot
    Given a buyer has won a lot for $80.00
    And another buyer has won lot 23
    And the buyer is signed in
    When the buyer tries to pay for the other buyer's lot
    Then the buyer is refused

  Scenario: A buyer leaves Stripe's page and comes back to pay
    Given a buyer has won a lot for $215.50
    And the buyer is signed in
    When the buyer pays for the lot with a card that is declined
    And the buyer leaves Stripe's page without paying
    Then the buyer can still pay for the lot
    And no order exists for the lot
