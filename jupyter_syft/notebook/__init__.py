"""Notebook surfaces: the ``%%syft_function`` cell magic and the request review widget.

These modules import IPython and ipywidgets at the top; ``jupyter_syft`` itself imports them
only when they are used (``%load_ext jupyter_syft``, ``sy.review``, ``request.review()``).
"""
