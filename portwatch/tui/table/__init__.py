"""The listener table: rows and order without Textual widgets, painting, and the Line API widget."""
