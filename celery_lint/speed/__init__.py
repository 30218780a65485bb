"""Ways to do less work for the same answer: ``prefilter`` (which files), ``slicing`` (which statements),
``reuse`` (an edit that changed nothing that matters), ``cache``, ``parallel`` (worker processes) and ``rounds``
(the fast path that ties them together). Nothing here decides a verdict; ``engine.analyse_root(speed=False)``
runs without any of it, and the tests require the same answers both ways."""
