"""Pure verdicts: functions from collected facts to :class:`adprep.model.CheckResult`. No I/O."""
