"""Directory preparation as plan → apply: observed state + desired state → changes, then apply."""
