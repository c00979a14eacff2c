"""Shared basics: bilingual errors, progress bars, bounded memos, locating the reference data, the settings
read from the environment and the workspace layout.

Imports nothing from the rest of ``fundguard``; everything else may import it.
"""
