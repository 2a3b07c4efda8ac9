"""Fact collectors: plan network jobs, run them through transports, return frozen facts."""
