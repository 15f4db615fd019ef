"""The tutorial's plumbing: everything a student never needs to open.

``helpers.py`` holds what the notebooks teach. This package holds the rest:

- ``checks``     input checks shared by helpers' sections (validated once, at the boundary)
- ``figures``    matplotlib display of covers and mosaics (``helpers.show_*``)
- ``images``     robust decoding of any folder of covers (used by ``helpers.load_covers``)
- ``files``      safe writing of outputs: complete files or none; the fast PNG writer
- ``fast``       speed: the training loop (equal to MiniSom's), big-folder features,
                 the windowed assignment, the local swaps
- ``versions``   the declared version floors and the lock
- ``download``   the 2019 post's covers, checked against their SHA-256
- ``progress``   progress bars for long runs and the command line's status line
- ``explorer``   the interactive explorer of notebook 07
- ``cli``        the command line, ``python helpers.py COVERS_DIR [options]``
- ``notebook``   the one setup cell every notebook starts with
- ``exercises``  the checks students call on their exercise answers, and their hints
- ``demos``      the small slider demos of notebooks 04, 05 and 06
"""
