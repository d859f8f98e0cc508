@declines
Feature: Stripe says why a card was declined
  Stripe's Checkout page tells the buyer, in Stripe's words, why their card was declined
  and keeps the page open for another card. Another card pays, in the same attempt, and
  the marketplace records one order.

  Scenario Outline: A buyer declined for <reason> pays with a Visa card
    Given Alice Martin has won lot 17 for $342.00
    And the buyer is signed in
    When the buyer pays for the lot with <card>
    Then Stripe's page says "<Stripe's message>"
    When the buyer tries a Visa card on the same Stripe page
    Then the buyer sees the payment paid
    And the lot is paid
    And the buyer has used 1 payment attempt

    Examples:
      | reason             | card                                | Stripe's message                                                          |
      | a generic decline  | a card that is declined             | Your card was declined.                                                   |
      | insufficient funds | a card with insufficient funds      | Your card has insufficient funds.                                         |
      | a lost card        | a lost card                         | Your card was declined.                                                   |
      | a stolen card      | a stolen card                       | Your card was declined.                                                   |
      | an expired card    | an expired card                     | Your card has expired.                                                    |
      | an incorrect CVC   | a card with an incorrect CVC        | Your card's security code is incorrect.                                   |
      | a processing error | a card that hits a processing error | An error occurred while processing your card. Try again in a little bit. |
