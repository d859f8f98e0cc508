"""Importable test machinery: servers, clocks, webhooks, page objects, BDD steps."""
