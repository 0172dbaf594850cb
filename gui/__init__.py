"""The PySide6 desktop application. Widgets only: all computation is in :mod:`core`,
called from worker threads."""
