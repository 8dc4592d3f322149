"""The gateway: compute nodes reach the store through ``lpad gateway`` over HTTP.

Where compute nodes cannot reach MongoDB, or cannot share the embedded SQLite
file, a gateway on the login node serves the LaunchPad; rockets and the
read-only ``lpad`` commands use it through a launchpad file with
``gateway:`` and ``token_file:`` (see docs/gateway.md). The server
(``server``), the client (``client``), the wire format (``protocol``) and
the tokens (``tokens``) load only when used.
"""

__all__ = ["GatewayLaunchPad"]


def __getattr__(name):
    if name == "GatewayLaunchPad":
        from .client import GatewayLaunchPad

        return GatewayLaunchPad
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
