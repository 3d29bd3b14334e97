"""Upload the rows selected in a Google Sheet to CallMarker and write each row's result back."""

__version__ = "0.1.0"
