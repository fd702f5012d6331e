"""llmnotes: the code behind an executable documentation site on LLM foundations.

Every number and figure on the site is produced by an experiment in this package, stored in
``docs/generated/`` with its provenance, and pulled into the pages at build time.
"""

__version__ = "0.1.0"
