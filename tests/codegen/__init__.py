"""Tests of codegen/ (see test_generator.py)."""
