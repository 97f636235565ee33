"""The Jupyter side of holdem_lab: the library behind the notebooks in ``notebooks/``.

Notebooks stay thin and reviewable; everything they compute lives here so it can be tested:

* :mod:`holdem_lab.lab.runfiles` reads a run's checkpoint metadata and policies (never the
  solver state, which can be gigabytes for Hold'em);
* :mod:`holdem_lab.lab.chunk` validates the chunk notebook's parameters, builds the metadata it
  records and the result it hands back to the driver, and summarises the chunk;
* :mod:`holdem_lab.lab.driver` runs a whole training run chunk by chunk, each chunk being the
  chunk notebook executed by papermill in a fresh kernel, then the analysis notebook;
* :mod:`holdem_lab.lab.analysis` turns a run into plain data and figures across chunks;
* :mod:`holdem_lab.lab.views` and :mod:`holdem_lab.lab.explore` browse strategies with widgets.

Importing this package is cheap: submodules load papermill, matplotlib or ipywidgets only when
they are imported themselves.
"""
