@receipts
Feature: The receipt by email
  Right after the payment the buyer is mailed a thank-you note with the same PDF
  receipt attached.

  Scenario: The receipt arrives by email with the PDF attached
    Given Kwame Mensah has won lot 221 for $128.00
    And the buyer is signed in
    When the buyer pays for the lot with a Mastercard
    Then the buyer receives the receipt by email as a PDF attachment
    And the receipt names lot 221 and $128.00
    And the receipt names the card as the Mastercard ending in 4444
    And the receipt never shows a full card number
