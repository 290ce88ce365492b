"""Spark Structured Streaming job that lands sales events, exactly once, in a bronze Delta table."""
