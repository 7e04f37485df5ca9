"""Rasa SDK actions of 人才直达车助手: thin glue between the tracker and policies/.

One concern per module; the action server imports every submodule at start, so nothing here does
work at import time (configuration and the policy engine load on first use).
"""
