"""The command line: click glue. Parse options, build settings, call one job, render, exit."""
