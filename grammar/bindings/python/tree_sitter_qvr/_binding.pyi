def language() -> object:
    """A PyCapsule named "tree_sitter.Language" for the QVR grammar."""
