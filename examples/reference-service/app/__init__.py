"""Reference service of the fleet.

A deliberately small service that exercises everything the platform promises a real one:
the health contract, the hardware profile arriving as environment, multi-worker serving,
a non-root user and a read-only root filesystem. The service images of the fleet are built
from this layout (an ``app`` package run with ``python -m app`` and a ``requirements.lock``).
"""
