"""Shared by every tool of the kit: data locations, vectors, requirements, hex dumps."""
