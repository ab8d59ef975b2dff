"""The Sage 100 simulator: a company file, its business objects and its faults."""
