"""The council bot: the Rasa project's Python side (catalogue, NLU components,
training, routing and benchmarks). Nothing here runs at import."""
