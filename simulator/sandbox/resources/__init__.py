"""One module per Stripe object: state, rules and serializer, with no Flask imports."""
