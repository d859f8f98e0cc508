"""The marketplace's payment service: buyers pay for auction winnings through Stripe
Checkout (story 12.1). A plain-Python domain core, thin adapters, thin Flask layers."""
