"""ONNX export of the served models: one module per model, the shared frame in ``core``.

    python -m trainer.export [--out DIR] [--lite 0|2] [--force] [--only MODEL]

``contract`` says what a model folder promises the app (inputs, dynamic axes, opset, parity
tolerance); ``core`` stages, checks and installs a folder; ``image``, ``text``, ``documents``,
``sog`` and ``personal`` each export one model; ``default_models`` builds the default set.
"""
