"""The ways in: the command line and the flake8 plugin, over one engine."""
