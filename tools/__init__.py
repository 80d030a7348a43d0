"""Command-line entry points (``drill``) and benchmark scripts."""
