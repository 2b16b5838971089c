"""Thin clients for the services the actions talk to, one module each."""
