"""Tests for TagAssist."""
