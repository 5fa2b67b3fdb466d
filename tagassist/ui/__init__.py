"""tagassist.ui"""
