"""`python -m tests.data.corpus`: write the seeded corpus files."""

from tests.data.corpus.generate import main

main()
