"""Renderers: a report as a human table, as versioned JSON, or as JUnit XML. Pure: they return text."""
