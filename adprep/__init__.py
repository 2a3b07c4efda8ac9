"""adprep: preflight and prepare an on-premises Active Directory for AWS AD Connector.

The package is laid out by layer (see README, "Architecture"): ``transport`` opens connections,
``collect`` gathers facts through transports, ``checks`` turns facts into verdicts (pure),
``prep`` plans and applies directory writes, ``ad``/``gpo``/``wire`` hold pure formats, ``render``
turns a report into text, and ``cli`` is the thin click layer.
"""

__version__ = "0.1.0"
