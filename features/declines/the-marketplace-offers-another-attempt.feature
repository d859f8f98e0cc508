@declines
Feature: The marketplace offers another attempt after a decline
  When a buyer leaves Stripe's page after a decline, the marketplace's payment page says
  the payment failed, gives the reason in words the buyer can act on (never that a card
  was reported lost or stolen), and offers another attempt within the 24-hour window.

  Scenario Outline: The payment page explains a decline for <reason> and offers a retry
    Given Bruno Keller has won lot 42 for $128.50
    And the buyer is signed in
    When the buyer pays for the lot with <card>
    Then Stripe's page says "<Stripe's message>"
    When the buyer leaves Stripe's page without paying
    Then the buyer sees the payment failed
    And the payment page says "<marketplace's message>"
    And the buyer has 3 attempts left

    Examples:
      | reason             | card                                | Stripe's message                        | marketplace's message                                                        |
      | a generic decline  | a card that is declined             | Your card was declined.                 | Your card was declined. Try another card or contact your bank.               |
      | insufficient funds | a card with insufficient funds      | Your card has insufficient funds.       | Your card has insufficient funds. Try another card or contact your bank.     |
      | a lost card        | a lost card                         | Your card was declined.                 | Your card was declined. Try another card or contact your bank.               |
      | a stolen card      | a stolen card                       | Your card was declined.                 | Your card was declined. Try another card or contact your bank.               |
      | an expired card    | an expired card                     | Your card has expired.                  | Your card has expired. Try another card.                                     |
      | an incorrect CVC   | a card with an incorrect CVC        | Your card's security code is incorrect. | The security code (CVC) was incorrect. Check it and try again.               |
      | a processing error | a card that hits a processing error | An error occurred while processing your card. Try again in a little bit. | An error occurred while processing your card. Try again in a moment.         |

  Scenario: A declined buyer tries again from the marketplace and a Visa card pays
    Given Chloé Dubois has won lot 8 for $275.00
    And the buyer is signed in
    When the buyer pays for the lot with a card with insufficient funds
    Then Stripe's page says "Your card has insufficient funds."
    When the buyer leaves Stripe's page without paying
    And the buyer tries again with a Visa card
    Then the buyer sees the payment paid
    And the lot is paid
    And the buyer has used 2 payment attempts
