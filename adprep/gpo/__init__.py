"""Pure Group Policy file formats: Registry.pol, ADM templates, GPT.INI, and the PCoIP settings mapping."""
