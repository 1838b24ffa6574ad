"""The Textual live view: everything that imports textual or rich lives here."""
