@three_d_secure
Feature: 3-D Secure on payments over $500
  Above $500 the marketplace asks Stripe to authenticate the buyer with 3-D Secure; at or
  below it, whether to authenticate is left to Stripe and the card's bank.

  Scenario: A card that needs authentication pays over $500 once the buyer authenticates
    Given Alice Martin has won lot 17 for $642.00
    And the buyer is signed in
    When the buyer pays for the lot with a card that needs authentication
    Then the buyer's bank asks them to authenticate
    When the buyer completes the authentication
    Then the buyer sees the payment paid
    And the lot is paid
    And the payment was authenticated by the buyer's bank
    And the marketplace asked Stripe for 3-D Secure

  # Stripe documents 4242 4242 4242 4242 as not enrolled in 3-D Secure (no challenge even
  # when one is requested); the sandbox challenges it, so this holds on the sandbox only.
  @sandbox_only
  Scenario: Over $500 the sandbox challenges a Visa card too
    Given Marcus Webb has won lot 31 for $780.00
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer's bank asks them to authenticate
    When the buyer completes the authentication
    Then the buyer sees the payment paid
    And the lot is paid
    And the payment was authenticated by the buyer's bank
    And the marketplace asked Stripe for 3-D Secure

  Scenario: A Visa card pays under $500 without a challenge
    Given Priya Natarajan has won lot 9 for $342.00
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    And the buyer's bank did not ask them to authenticate
    And the marketplace left 3-D Secure to the card's bank
    And the lot is paid

  Scenario: A card that needs authentication is challenged under $500 too
    Given Tomás Herrera has won lot 12 for $180.00
    And the buyer is signed in
    When the buyer pays for the lot with a card that needs authentication
    Then the buyer's bank asks them to authenticate
    When the buyer completes the authentication
    Then the buyer sees the payment paid
    And the lot is paid
    And the payment was authenticated by the buyer's bank
    And the marketplace left 3-D Secure to the card's bank
