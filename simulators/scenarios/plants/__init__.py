"""Plant files the shipped scenarios run on."""
