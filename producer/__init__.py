"""Retail sales event producer: dimension seeds, sales events, dirty data, sinks."""
