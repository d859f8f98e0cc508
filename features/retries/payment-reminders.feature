@retries @sandbox_only
Feature: Reminders after a failed payment
  After a failed payment the buyer is reminded by mail 1 hour, 6 hours and 18 hours
  later, with a link to pay; never once the lot is paid, every attempt is used, or the
  payment window has closed.

  Scenario: A buyer is reminded 1, 6 and 18 hours after a failed payment
    Given Sofia Rossi has won lot 233 for $340.00
    And the buyer is signed in
    And the buyer's first payment was declined
    When 24 hours pass
    Then the buyer was reminded 1 hour, 6 hours and 18 hours after the failure
    And each reminder reached the buyer's mailbox with a link to pay

  Scenario: The buyer pays from the reminder's link
    Given Olivia Brown has won lot 54 for $185.00
    And the buyer is signed in
    And the buyer's first payment was declined
    When 1 hour passes
    And the buyer opens the payment link in the reminder mail
    And the buyer pays there with a Visa card
    Then the buyer sees the payment paid
    And the lot is paid

  Scenario: A buyer who paid after a decline gets no reminder
    Given Noah Williams has won lot 91 for $150.00
    And the buyer is signed in
    And the buyer's first payment was declined
    When the buyer tries again with a Visa card
    And 24 hours pass
    Then the order is paid
    And the buyer got no payment reminder

  Scenario: A buyer who used every attempt gets no reminder
    Given Lucas Moreau has won lot 502 for $260.00
    And the buyer is signed in
    And the buyer's card was declined on every allowed attempt
    When 24 hours pass
    Then the buyer got no payment reminder
    And the order is canceled

  Scenario: Reminders stop when the payment window closes
    Given Yuki Tanaka won lot 233 for $310.00, 20 hours ago
    And the buyer is signed in
    And the buyer's first payment was declined
    When 24 hours pass
    Then the buyer was reminded 1 hour after the failure and never again
    And the order is canceled
