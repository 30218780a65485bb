"""``--fix``: ``edits`` changes the decorators (LibCST, formatting kept), ``writing`` puts files on disk safely."""
