"""CLI commands contributed by packages, registered in forewarn.cli."""
