"""starshell's web GUI: watch and steer workflows in a browser (``lpad webgui``).

Only ``lpad webgui`` imports this package, lazily, so the CLIs never pay
for Flask's import.
"""

from .app import create_app, make_server, serve

__all__ = ["create_app", "serve", "make_server"]
