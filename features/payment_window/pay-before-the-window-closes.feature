@payment_window @sandbox_only
Feature: Pay before the 24-hour payment window closes
  The winner has 24 hours from the end of the auction to pay. Up to the last second the
  lot can be paid through Stripe Checkout (with 3-D Secure above $500); from the closing
  second on, no payment is taken, wherever the buyer is in the world.

  Scenario Outline: A buyer pays a second before the payment window closes
    Given <buyer> has won lot <lot> for <amount>
    And the buyer's browser is set to <zone> time
    And the buyer is signed in
    When the buyer pays by Visa a second before the payment window closes
    Then the buyer sees the payment paid
    And the lot is paid
    And Stripe charged the card in the window's last 2 seconds
    And the bank's check was <bank check>
    And the buyer's winnings counted down to 24 hours after the auction ended

    Examples:
      | buyer          | lot | amount    | zone                | bank check    |
      | Maria Lopez    | 311 | $342.00   | America/Los_Angeles | not requested |
      | Kenji Sato     | 312 | $642.00   | Asia/Tokyo          | authenticated |
      | Aroha Ngata    | 313 | $1,250.00 | Pacific/Auckland    | authenticated |
      | Chloé Martin   | 314 | $89.90    | Europe/Paris        | not requested |

  Scenario Outline: A buyer still on Stripe's page when the window closes cannot pay
    Given <buyer> has won lot <lot> for <amount>
    And the buyer's browser is set to <zone> time
    And the buyer is signed in
    When the buyer opens Stripe's payment page a second before the payment window closes
    And the payment window has been closed for a second
    And the buyer submits a Visa card on Stripe's page
    Then Stripe's page says the payment session has expired
    And back at the marketplace the buyer is told the payment window has closed
    And the order is canceled

    Examples:
      | buyer          | lot | amount  | zone             |
      | Liam O'Connor  | 321 | $455.00 | Europe/Dublin    |
      | Ana Souza      | 322 | $780.00 | America/Sao_Paulo |
