@fraud
Feature: Alerts for payments that need review
  Every payment a fraud rule holds raises an alert that the admins see on the alerts
  page, saying why. A payment no rule holds raises none.

  Scenario: A card issued in another country than the buyer's raises an alert
    Given Olivia Tremblay from Canada won lot 61 for $150.00
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    And the admins see an alert that the payment for lot 61 needs review: "Card issued in US, buyer registered in CA."
    And the payment is held for an admin's review, flagged for a card from another country

  Scenario: A payment no rule holds raises no alert
    Given Olivia Tremblay has won lot 62 for $150.00
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    And the admins see no alert and nothing waits for review
