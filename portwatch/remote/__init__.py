"""Remote hosts over the system ssh client (`--host`): the wire format between two portwatches, the remote
side's `portwatch stream`, one judged refresh of a host (host.py), the live view's source (live.py) and the
commands (commands.py). Reading a host goes through collect/'s public ssh transport and fallback collector."""
