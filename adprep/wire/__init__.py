"""Pure wire formats: build requests and decode replies; no sockets."""
