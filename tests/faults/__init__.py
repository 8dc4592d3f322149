"""Fault injection: kills, signals, store outages and late rockets (marker ``faults``)."""
