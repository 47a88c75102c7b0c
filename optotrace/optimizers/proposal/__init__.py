"""Asking for one proposal, reading the reply, checking each value before it is used (prompt building and
rendering, reply parsing, value checks), and the tactics for doing so as one `ProposalPolicy` (policy.py).
Imports neither train/ nor search/."""
