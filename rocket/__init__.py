"""Rockets run fireworks on compute nodes (``rlaunch``)."""

from .launcher import launch_rocket, multi, rapidfire
from .rocket import Rocket, RocketInterrupted

__all__ = ["Rocket", "RocketInterrupted", "launch_rocket", "rapidfire", "multi"]
