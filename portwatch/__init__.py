"""portwatch: what is listening on this machine, and should it be?"""

__version__ = "0.1.0"
