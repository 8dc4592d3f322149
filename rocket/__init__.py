"""Rockets run fireworks on compute nodes (``rlaunch``)."""

from .launcher import launch_rocket, multi, rapidfire
from .multi_launcher import launch_multiprocess
from .rocket import Rocket, RocketInterrupted

__all__ = ["Rocket", "RocketInterrupted", "launch_rocket", "rapidfire", "multi", "launch_multiprocess"]
