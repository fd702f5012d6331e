"""The site's machinery: assets, the metrics store, regeneration, page macros and hooks, notebooks.

Nothing here is part of an experiment's input hash: the pipeline moves results around without
changing them. Experiments use only :mod:`llmnotes.pipeline.experiment`.
"""
