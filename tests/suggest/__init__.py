"""Tests of the suggestion runtime and the default model export."""
