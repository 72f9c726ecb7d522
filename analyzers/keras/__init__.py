"""Keras H5 / .keras and TensorFlow SavedModel analyzers."""
