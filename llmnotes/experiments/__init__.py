"""The experiments: one module per topic page, ``experiments/<topic>.py`` for ``docs/<topic>.md``.

Each module registers the experiments whose numbers and figures its page quotes, with
:func:`llmnotes.pipeline.experiment.experiment`. The modules are found, not listed
(:func:`llmnotes.pipeline.experiment.topics`): adding a topic is adding a module here.
They use the teaching code at the top of the package and, of the pipeline, only its experiment
API; everything they import outside :mod:`llmnotes.pipeline` is part of their input hash.
"""
