"""tagassist.suggest: the models, signals and blend behind the suggestions."""
