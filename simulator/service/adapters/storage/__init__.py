"""The payment service's SQLite storage, by aggregate.

``schema`` declares every table; ``store`` holds the connections and transactions; each
other module is one aggregate's reads and writes, a mixin on ``Store``
(``users``, ``payments``, ``audit``, ``state``, ``security``, ``inbox``, ``jobs``,
``mail``, ``metrics``), and ``migrations`` upgrades what older versions stored.
``adapters/repositories.py`` composes them into the one ``Repository`` the service uses.
"""
