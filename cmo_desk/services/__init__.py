"""Use cases shared by the desk and the command line. Each returns what it changed."""
