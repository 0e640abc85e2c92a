"""Scoring recorded files offline with the same engine the live pipeline runs."""

from forewarn.offline.runner import RowScores, score_table, table_plant
from forewarn.offline.table import Table, TableError, read_table, write_scores

__all__ = [
    "RowScores",
    "Table",
    "TableError",
    "read_table",
    "score_table",
    "table_plant",
    "write_scores",
]
