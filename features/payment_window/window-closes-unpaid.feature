@payment_window @sandbox_only
Feature: The payment window closes on an unpaid lot
  When the 24 hours run out without a payment, the marketplace refuses any payment,
  cancels the order and tells the buyer by mail.

  Scenario: An unpaid lot's order is canceled and the buyer is told by mail
    Given Grace Okafor has won lot 640 for $415.00
    When 24 hours pass
    Then the order is canceled
    And the buyer receives a mail saying the payment window for the lot closed
    And the mail was written when the window closed

  Scenario: The Pay button on an open page closes with the window
    Given a buyer has won a lot for $275.00
    And the buyer is signed in
    And the buyer is looking at their winnings
    When the payment window is a second from closing
    Then the buyer can still press Pay
    When the payment window has been closed for a second
    Then the buyer's page shows the window closed and Pay can no longer be pressed
    And coming back later the buyer sees the window closed and no Pay button

  Scenario: A payment sent from a page opened before the window closed is refused
    Given Ahmed Hassan has won lot 655 for $180.00
    And the buyer is signed in
    And the buyer is looking at their winnings
    When the payment window has been closed for a second
    And the buyer's browser sends the Pay form anyway
    Then the buyer is told "The 24-hour payment window for this lot has closed."
    And no Checkout Session was created for the lot

  Scenario: A lot paid in time stays paid when the window closes
    Given Daniel Kim has won lot 77 for $130.00
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    When 24 hours pass
    Then the order is paid
    And the buyer got no mail about the payment window closing
