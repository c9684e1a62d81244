"""Importers: models from other frameworks into Flash IR."""
