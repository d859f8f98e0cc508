"""The payment service's domain core: plain Python rules with no Flask, HTTP or SQL.

Everything here takes the time as an argument (read once from
``simulator.common.clock.Clock`` by the caller), so each rule is testable at its edges.
"""
