"""FlashCompile's version: the one place it is written (pyproject.toml reads
it for the wheel, CMake for the tools' --version)."""
__version__ = "0.1.0"
