"""Containers: zip (PyTorch, npz, generic), tar (incl. legacy PyTorch), 7z, compressed streams, NumPy.

Every reader here works on a ``ByteSource`` and reads only what it needs: a zip's end record and
central directory, then the members worth analyzing.
"""
