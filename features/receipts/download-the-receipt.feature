@receipts
Feature: Download the receipt of a paid lot
  A buyer who paid keeps a PDF receipt that names the lot, the amount and the card by
  its last four digits only. A receipt is its buyer's own: no other buyer can download it.

  Scenario: The buyer downloads the receipt after paying
    Given Grace Okafor has won lot 214 for $342.50
    And the buyer is signed in
    When the buyer pays for the lot with a Visa card
    And the buyer downloads the receipt
    Then the receipt names lot 214 and $342.50
    And the receipt names the card as the Visa ending in 4242
    And the receipt never shows a full card number

  Scenario: Another buyer cannot download the receipt
    Given Grace Okafor has paid $96.00 for lot 215 with a Mastercard
    When another buyer, Tomás Herrera, asks for the receipt
    Then the receipt is refused with "This receipt belongs to another buyer."
