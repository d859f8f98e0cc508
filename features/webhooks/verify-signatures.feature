@webhooks
Feature: Only deliveries Stripe signed are trusted
  Anyone can post to the marketplace's webhook endpoint. A delivery whose signature does
  not match, or that was signed too long ago to be anything but a replay, is refused
  before anything is stored, and no lot is marked paid because of it.

  Scenario: A delivery signed with the wrong secret is refused and nothing is recorded
    Given a buyer has won a lot for $642.00
    And the buyer has started paying for the lot
    When a "checkout.session.completed" event for the lot arrives signed with the wrong secret
    Then the delivery is refused because its signature does not match
    And nothing from the delivery is stored
    And no order exists for the lot

  Scenario: A delivery signed 10 minutes ago is refused as a replay
    Given Marta Kowalski has won lot 214 for $318.40
    And the buyer has started paying for the lot
    When a "checkout.session.completed" event for the lot arrives signed 10 minutes ago
    Then the delivery is refused because its timestamp is too old
    And nothing from the delivery is stored
    And no order exists for the lot

  Scenario: A delivery whose amount was changed after signing is refused
    Given Tomás Herrera has won lot 88 for $1,250.00
    And the buyer has started paying for the lot
    When a signed "checkout.session.completed" event for the lot arrives with its amount changed to $0.01
    Then the delivery is refused because its signature does not match
    And nothing from the delivery is stored
    And no order exists for the lot
