"""Page objects: locators and intent, one code path for the sandbox and real Stripe."""
