"""PyTorch side of TagAssist: data sets, models, training, evaluation and ONNX export.

May import tagassist's plain (Qt-free) types; never imports tagassist.ui.
"""
