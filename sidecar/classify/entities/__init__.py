"""Recognizers of entities without a fixed shape (person names, street addresses, diagnoses
in words): a second stage after the Hyperscan pass, run on cheap candidate spans only."""
