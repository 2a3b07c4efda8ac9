"""Relays: run adprep's probes from another host (a remote vantage) over SSH or WinRM.

``agent.py`` (Python 3.7+, stdlib only) and ``agent.ps1`` (Windows PowerShell 5.1) are the relays
that run on the far end; ``ssh.py`` and ``winrm.py`` start them; ``session.py`` turns a channel into
the same :class:`~adprep.transport.network.Network` local probes use. The JSON they speak is in
:mod:`adprep.wire.relay`.
"""
