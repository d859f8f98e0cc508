@retries
Feature: Retry a declined payment
  A buyer whose payment fails may try again: the first attempt and up to 3 retries, each
  a new Stripe Checkout Session, while the payment window is open.

  Scenario: A buyer whose card had insufficient funds pays on the retry
    Given Priya Raman has won lot 412 for $189.00
    And the buyer is signed in
    When the buyer pays for the lot with a card with insufficient funds
    And the buyer leaves Stripe's page without paying
    Then the buyer sees the payment failed
    And the payment page says "Your card has insufficient funds. Try another card or contact your bank."
    And the buyer has 3 attempts left
    When the buyer tries again with a Visa card
    Then the lot is paid

  Scenario: After the last retry fails the buyer is not offered another
    Given Hannah Fischer has won lot 318 for $212.00
    And the buyer is signed in
    When the buyer's card is declined on the first attempt and on each of the 3 retries
    Then the payment page shows 4 attempts used and none left
    And the buyer is not offered another try
    And the buyer's winnings say no attempts are left and offer no Pay button
    And no order exists for the lot

  Scenario: A buyer who tries another card on Stripe's page uses one attempt
    Given Tomás Herrera has won lot 87 for $96.00
    And the buyer is signed in
    When the buyer pays for the lot with a card that is declined
    And the buyer's failed payment has been recorded
    And the buyer tries a Visa card on the same Stripe page
    Then the buyer sees the payment paid
    And the lot is paid with 1 attempt used
