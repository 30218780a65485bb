"""What a file says, how the project links, what counts as a read: pure analysis, no speed machinery.

source -> ``summary`` (one LibCST pass, with ``walk`` and ``flow``) -> ``facts`` -> ``project`` (``symbols``,
``settings``) -> ``verdicts``."""
