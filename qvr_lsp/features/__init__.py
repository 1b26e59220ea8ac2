"""One module per LSP feature. Each exposes pure functions from a `Document`/`Analysis` and an
offset (code points into the normalised text) to plain data with `Span`s; the server turns the
results into lsprotocol types. Nothing in here knows about the protocol or the position encoding.
"""
