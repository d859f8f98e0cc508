"""Load benchmarks for the sandbox and other Stripe-compatible servers (localstripe,
stripe-mock): a light keep-alive HTTP client, the SDK's own form bodies, and a bulk
seeder that grows a sandbox's SQLite store to measure lookups at scale.

Only loopback targets are measured, and every run is bounded in time."""
