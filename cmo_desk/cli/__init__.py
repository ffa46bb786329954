"""The command line: the headless path through every use case."""
