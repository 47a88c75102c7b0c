"""Whole-run searches on the shared minibatch cycle: the population (GEPA-style), propose-and-race, demos."""
