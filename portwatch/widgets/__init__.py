"""The widgets of the portwatch TUI, one a module."""
