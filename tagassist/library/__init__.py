"""tagassist.library"""
