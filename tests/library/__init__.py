"""Tests for tagassist.library."""
