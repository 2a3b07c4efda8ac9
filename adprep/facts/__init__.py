"""Facts: the frozen values collectors gather and checks judge (no I/O here, and no verdicts).

Transports return some of them (a TCP probe, a UDP exchange); collectors build the rest. Checks
import only these, never a collector or a transport (enforced by import-linter, see pyproject.toml).
"""
