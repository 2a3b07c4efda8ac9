"""Transports: the only modules that open connections. Each owns one protocol's network side and
turns its library's exceptions into adprep's errors (or into facts, for probes)."""
