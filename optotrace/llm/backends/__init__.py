"""Backends: each turns one Request into one RawReply. Heavy SDKs are imported inside them, lazily."""
