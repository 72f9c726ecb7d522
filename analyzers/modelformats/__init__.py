"""Non-Keras model formats: GGUF, ONNX, safetensors, and JSON files (chat templates, Keras configs)."""
