"""Jinja2 templates of the generated modules (data, not code)."""
