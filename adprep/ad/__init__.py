"""Pure Active Directory knowledge: names, security descriptors, flags, error codes; no network."""
