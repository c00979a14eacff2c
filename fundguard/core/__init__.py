"""Shared basics: bilingual errors, progress bars, locating the reference data.

Imports nothing from the rest of ``fundguard``; everything else may import it.
"""
