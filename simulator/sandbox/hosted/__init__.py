"""The hosted checkout page and the 3-D Secure test challenge, served by the sandbox."""
