@three_d_secure
Feature: Failed 3-D Secure authentication
  A buyer who fails their bank's check is told so by Stripe and by the marketplace, and
  can pay with another card; the lot is ordered once.

  Scenario: A buyer fails authentication and pays with another card
    Given Alice Martin has won lot 17 for $925.00
    And the buyer is signed in
    When the buyer pays for the lot with a card that needs authentication
    And the buyer fails the authentication
    Then Stripe's page says "We are unable to authenticate your payment method."
    When the buyer tries a card that always needs authentication on the same Stripe page
    And the buyer completes the authentication
    Then the buyer sees the payment paid
    And the lot is paid

  Scenario: The marketplace says the bank could not authenticate and offers a retry
    Given Bruno Keller has won lot 42 for $1,250.00
    And the buyer is signed in
    When the buyer pays for the lot with a card that needs authentication
    And the buyer fails the authentication
    Then Stripe's page says "We are unable to authenticate your payment method."
    When the buyer leaves Stripe's page without paying
    Then the buyer sees the payment failed
    And the payment page says "Your bank could not authenticate the payment. Try again and complete the bank's check, or use another card."
    And the buyer has 3 attempts left
