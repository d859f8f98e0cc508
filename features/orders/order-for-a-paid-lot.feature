@orders
Feature: An order for every paid lot
  When the payment succeeds the marketplace creates exactly one paid order for the lot,
  then updates the order with its receipt as soon as the receipt is rendered.

  Scenario: A successful payment creates one paid order
    Given Hana Sato has won lot 77 for $189.00
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    Then the buyer sees the payment paid
    And the order is paid
    And exactly one order exists for the lot
    And the buyer's winnings show lot 77 as paid

  Scenario: The paid order is updated with its receipt
    Given Hana Sato has paid $189.00 for lot 78 with a Visa card
    When an admin downloads the receipt from the order of lot 78
    Then the order of lot 78 shows as paid with its receipt
    And the receipt names lot 78 and $189.00
    And the audit log records the receipt attached to the order
