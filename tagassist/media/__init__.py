"""tagassist.media"""
