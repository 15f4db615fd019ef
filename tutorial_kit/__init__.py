"""The tutorial's plumbing: everything a student never needs to open.

Imports point down only (tests/test_layers.py): the lower modules (checks, exact,
fast, figures, files, images, progress, versions, download) import nothing above
them; ``helpers.py`` imports only those; the applications (explorer, projector, cli,
exercises, notebook, demos, projector) sit on top.

``helpers.py`` holds what the notebooks teach. This package holds the rest:

- ``checks``     one rule per parameter, shared by helpers, the command line and the explorer
- ``interrupts`` Ctrl-C, SIGTERM and SIGHUP as one exception, held back while outputs commit
- ``figures``    matplotlib display of covers and mosaics (``helpers.show_*``)
- ``images``     robust decoding of any folder of covers (used by ``helpers.load_covers``)
- ``files``      safe writing of outputs: complete files or none; the fast PNG writer
- ``fast``       speed: the training loop (equal to MiniSom's), big-folder features,
                 the windowed assignment, the local swaps
- ``exact``      the features and the PCA start, the same to the last bit on every CPU
- ``versions``   the declared version floors and the lock
- ``download``   the 2019 post's covers, checked against their SHA-256
- ``progress``   progress bars for long runs and the command line's status line
- ``explorer``   the interactive explorer of notebook 07: its widgets and their rules;
                 ``explorer_view`` draws its pictures and words, ``explorer_worker``
                 runs its training on a background thread (the newest request wins)
- ``projector``  the explorer alone, scaled to the screen (the projector page)
- ``cli``        the command line, ``python helpers.py COVERS_DIR [options]``
- ``notebook``   the one setup cell every notebook starts with
- ``exercises``  the checks students call on their exercise answers, and their hints
- ``demos``      the small slider demos of notebooks 04, 05 and 06
"""
