"""Shipped default ONNX models with their metadata.json (built by the setup step, not committed)."""
