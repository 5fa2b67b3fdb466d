"""tagassist.suggest"""
