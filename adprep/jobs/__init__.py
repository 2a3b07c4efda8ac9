"""Jobs: what each adprep command does end to end (validate settings, collect facts, check, report).
The CLI calls exactly one job function per command."""
