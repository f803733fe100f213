"""Subcommands of the ``dtlpy`` CLI, one module each (see ``dtlpy.cli``)."""
